import { lastDim } from '../kernel.js';
import {
  attentionConstants,
  PER_TOKEN_HEAD_ENTRY,
  perTokenHead,
  scoreScale,
} from '../kernels/attention.js';
import { bindings } from '../wgsl.js';
import { accumulateSuffix, GRADIENT, value } from './common.js';
import {
  DROPOUT_BINDING,
  DROPOUT_READ,
  dropoutFunctions,
  probabilityFactor,
  type SiteDropout,
} from './dropout.js';
import type { BackwardEmission, BackwardRead, BackwardTemplate } from './types.js';

const SCRATCH: BackwardRead = { kind: 'scratch' };

/** Per query and head: its score max, Σ exp(s − max), and D = Σ_j P_j·(g·v_j). */
const STATS = 3;

interface Sizes {
  readonly d: number;
  readonly dh: number;
  readonly heads: number;
  readonly causal: boolean;
  /** Where training drops the probabilities: P_ij is P_ij·m_ij in the output. */
  readonly dropout?: SiteDropout;
}

/** `* m_ij` of query position `i` and key position `j` of `sequence`, or nothing without dropout. */
const times = (s: Sizes, i: string, j: string): string =>
  s.dropout ? ` * pm(sequence, head, ${i}, ${j})` : '';

/** The score of query token `qt` against key token `kt` in head `head`. */
const SCORE = `fn score(qt: u32, kt: u32, head: u32) -> f32 {
  var s = 0.0;
  for (var c = 0u; c < DH; c = c + 1u) { s = s + q[qt * D + head * DH + c] * k[kt * D + head * DH + c]; }
  return s * SCALE;
}`;

/** Whether query position `i` sees key position `j` of sequence `sequence`. */
const visible = (causal: boolean) =>
  `fn visible(sequence: u32, i: u32, j: u32) -> bool { return mask[sequence * params.seq + j] != 0${causal ? ' && j <= i' : ''}; }`;

/** g_i·v_j in head `head`. */
const G_DOT_V = `fn g_dot_v(qt: u32, kt: u32, head: u32) -> f32 {
  var s = 0.0;
  for (var c = 0u; c < DH; c = c + 1u) { s = s + g[qt * D + head * DH + c] * v[kt * D + head * DH + c]; }
  return s;
}`;

/**
 * A gradient kernel of attention: its bindings (`out` last), the functions above, then `body` in
 * the forward kernel's entry point, one invocation per (token, head).
 */
function kernel(s: Sizes, written: readonly string[], body: string): string {
  const names = s.dropout ? [...written.slice(0, -1), DROPOUT_BINDING, written.at(-1)!] : written;
  const types = names.map((n) => (n === 'mask' ? 'i32' : n === DROPOUT_BINDING ? 'u32' : 'f32'));
  return `${bindings(names, types)}
${attentionConstants(s.d, s.dh, s.heads)}
const SCALE = ${scoreScale(s.dh)};
${SCORE}
${visible(s.causal)}
${G_DOT_V}${s.dropout ? `\n${dropoutFunctions(s.dropout.probability)}\n${probabilityFactor(s.dropout.site)}` : ''}

${PER_TOKEN_HEAD_ENTRY}
${body}}
`;
}

const name = (what: string, s: Sizes, accumulate = false) =>
  `attention_${what}_${s.d}_h${s.heads}${s.causal ? '_causal' : ''}${s.dropout ? `_drop${s.dropout.site}` : ''}${accumulateSuffix(accumulate)}`;

/** The statement writing or adding `acc`, one head's channels from `at`. */
const storeHead = (at: string, accumulate: boolean) =>
  `for (var c = 0u; c < DH; c = c + 1u) { ${accumulate ? `out[${at} + c] = out[${at} + c] + acc[c];` : `out[${at} + c] = acc[c];`} }`;

function statistics(s: Sizes): Pick<BackwardEmission, 'name' | 'wgsl'> {
  return {
    name: name('stats', s),
    wgsl: kernel(
      s,
      ['g', 'q', 'k', 'v', 'mask', 'out'],
      `  // One pass, online as the forward kernel's softmax: Σ exp(s − max)·(g·v) rescaled with Σ exp.
  var top = -3.0e38;
  var total = 0.0;
  var weighted = 0.0;
  for (var j = 0u; j < params.seq; j = j + 1u) {
    if (!visible(sequence, position, j)) { continue; }
    let key = sequence * params.seq + j;
    let sc = score(token, key, head);
    let next = max(top, sc);
    let correction = exp(top - next);
    let e = exp(sc - next);
    total = total * correction + e;
    weighted = weighted * correction + e * g_dot_v(token, key, head)${times(s, 'position', 'j')};
    top = next;
  }
  out[index * ${STATS}u] = top;
  out[index * ${STATS}u + 1u] = total;
  out[index * ${STATS}u + 2u] = select(0.0, weighted / total, total > 0.0);
`,
    ),
  };
}

const WITH_STATS = ['g', 'q', 'k', 'v', 'mask', 'stats', 'out'];

/** dq of one (query, head): Σ_j dS_ij·k_j with dS = P·(g·v_j − D)·scale. */
function queryGradient(s: Sizes, accumulate: boolean): Pick<BackwardEmission, 'name' | 'wgsl'> {
  return {
    name: name('dq', s, accumulate),
    wgsl: kernel(
      s,
      WITH_STATS,
      `  let top = stats[index * ${STATS}u];
  let total = stats[index * ${STATS}u + 1u];
  let weighted = stats[index * ${STATS}u + 2u];
  var acc: array<f32, ${s.dh}>;
  for (var c = 0u; c < DH; c = c + 1u) { acc[c] = 0.0; }
  for (var j = 0u; j < params.seq; j = j + 1u) {
    if (total == 0.0 || !visible(sequence, position, j)) { continue; }
    let key = sequence * params.seq + j;
    let p = exp(score(token, key, head) - top) / total;
    let ds = p * (g_dot_v(token, key, head)${times(s, 'position', 'j')} - weighted) * SCALE;
    for (var c = 0u; c < DH; c = c + 1u) { acc[c] = acc[c] + ds * k[key * D + head * DH + c]; }
  }
  let qo = token * D + head * DH;
  ${storeHead('qo', accumulate)}
`,
    ),
  };
}

/**
 * dk or dv of one (key, head), over the queries that see it: dv_j = Σ_i P_ij·g_i and
 * dk_j = Σ_i dS_ij·q_i.
 */
function keyGradient(
  s: Sizes,
  which: 'dk' | 'dv',
  accumulate: boolean,
): Pick<BackwardEmission, 'name' | 'wgsl'> {
  // dS of the pair once per query, outside the loop over the head's channels.
  const m = times(s, 'i', 'position');
  const [weight, term] =
    which === 'dv'
      ? [`p${m}`, 'g[query * D + head * DH + c]']
      : [
          `p * (g_dot_v(query, token, head)${m} - stats[qs + 2u]) * SCALE`,
          'q[query * D + head * DH + c]',
        ];
  return {
    name: name(which, s, accumulate),
    wgsl: kernel(
      s,
      WITH_STATS,
      `  var acc: array<f32, ${s.dh}>;
  for (var c = 0u; c < DH; c = c + 1u) { acc[c] = 0.0; }
  for (var i = 0u; i < params.seq; i = i + 1u) {
    if (!visible(sequence, i, position)) { continue; }
    let query = sequence * params.seq + i;
    let qs = (query * HEADS + head) * ${STATS}u;
    let total = stats[qs + 1u];
    if (total == 0.0) { continue; }
    let p = exp(score(query, token, head) - stats[qs]) / total;
    let w = ${weight};
    for (var c = 0u; c < DH; c = c + 1u) { acc[c] = acc[c] + w * ${term}; }
  }
  let ko = token * D + head * DH;
  ${storeHead('ko', accumulate)}
`,
    ),
  };
}

/**
 * Attention's VJP per head, through the softmax over the visible keys (the padding mask, and
 * the causal mask where the model has one): a statistics pass, then dq per query and dk, dv
 * per key, each recomputing the scores from the kept q and k instead of keeping P [B, H, T, T].
 * A query that sees no key contributes nothing, as its output was zeros. Where training drops the
 * probabilities, m_ij is recomputed from the mask stream: dv_j = Σ_i P·m·g_i and dP = m·(g·v).
 */
export const attentionBackward: BackwardTemplate<'attention'> = (node, context) => {
  const [q, k, v, mask] = node.inputs as [number, number, number, number];
  const d = lastDim(node.shape);
  const sizes: Sizes = {
    d,
    dh: d / node.attrs.heads,
    heads: node.attrs.heads,
    causal: node.attrs.causal,
    ...(context.attentionDropout ? { dropout: context.attentionDropout } : {}),
  };
  const reads = [GRADIENT, value(q), value(k), value(v), value(mask)];
  const dropout = sizes.dropout ? [DROPOUT_READ] : [];
  const groups = perTokenHead(node.attrs.heads);
  const emissions: BackwardEmission[] = [
    {
      ...statistics(sizes),
      reads: [...reads, ...dropout],
      write: { kind: 'scratch', perToken: node.attrs.heads * STATS, perSequence: 0 },
      groups,
    },
  ];
  const parts = [
    (accumulate: boolean) => queryGradient(sizes, accumulate),
    (accumulate: boolean) => keyGradient(sizes, 'dk', accumulate),
    (accumulate: boolean) => keyGradient(sizes, 'dv', accumulate),
  ];
  parts.forEach((part, index) => {
    if (!context.wanted[index]) return;
    emissions.push({
      ...part(context.accumulate[index]!),
      reads: [...reads, SCRATCH, ...dropout],
      write: { kind: 'input', index },
      groups,
    });
  });
  return emissions;
};
