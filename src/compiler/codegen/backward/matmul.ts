import { lastDim, perRowBlock, rowCount, rowKind, type RowKind } from '../kernel.js';
import { bindings, ENTRY_BUILTINS, FLAT_GROUP, opaqueBound } from '../wgsl.js';
import { accumulateSuffix, declare, GRADIENT, groupsFor, SIZE, store, value } from './common.js';
import type { BackwardEmission, BackwardRead, BackwardTemplate } from './types.js';
import type { Shape } from '../../../runtime/program.js';

/**
 * dx = g·W from the k-major upload Wᵀ [k, n] the forward kernel reads, each invocation 4 rows by
 * 4 columns of dx as 16 dot products of vec4s along n (no second copy of W in its own layout).
 */
function dxVec4(
  k: number,
  n: number,
  rows: RowKind,
  accumulate: boolean,
): Pick<BackwardEmission, 'wgsl' | 'groups'> {
  const count = rowCount(rows);
  const r4 = [0, 1, 2, 3];
  const wgsl = `${bindings(['g', 'wt', 'out'], ['vec4f', 'vec4f', 'vec4f'])}
const N4 = ${n / 4}u;
const K4 = ${k / 4}u;

@compute @workgroup_size(64)
fn main(${ENTRY_BUILTINS}) {
  ${FLAT_GROUP}
  let index = group * 64u + lid;
  let col = index % K4;
  let row0 = (index / K4) * 4u;
  if (row0 >= ${count}) { return; }
  let last = ${count} - 1u;
${r4.map((r) => `  let x${r} = min(row0 + ${r}u, last) * N4;\n  var a${r} = vec4f(0.0);`).join('\n')}
  for (var j = 0u; j < ${opaqueBound('N4')}; j = j + 1u) {
${r4.map((c) => `    let w${c} = wt[(4u * col + ${c}u) * N4 + j];`).join('\n')}
${r4.map((r) => `    let v${r} = g[x${r} + j];\n    a${r} = a${r} + vec4f(dot(v${r}, w0), dot(v${r}, w1), dot(v${r}, w2), dot(v${r}, w3));`).join('\n')}
  }
${r4.map((r) => `  if (row0 + ${r}u < ${count}) { let at = (row0 + ${r}u) * K4 + col; ${accumulate ? `out[at] = out[at] + a${r};` : `out[at] = a${r};`} }`).join('\n')}
}
`;
  return { wgsl, groups: perRowBlock(k / 4, 4, 64, rows) };
}

/** dx = g·W one element per invocation, for widths that are not multiples of 4. */
function dxScalar(
  k: number,
  n: number,
  rows: RowKind,
  accumulate: boolean,
  x: Shape,
): Pick<BackwardEmission, 'wgsl' | 'groups'> {
  const wgsl = `${bindings(['g', 'wt', 'out'])}
const K = ${k}u;
const N = ${n}u;

@compute @workgroup_size(${SIZE})
fn main(${ENTRY_BUILTINS}) {
  ${FLAT_GROUP}
  let i = group * ${SIZE}u + lid;
  if (i >= ${rowCount(rows)} * K) { return; }
  let row = i / K;
  let col = i % K;
  var v = 0.0;
  for (var j = 0u; j < ${opaqueBound('N')}; j = j + 1u) { v = v + g[row * N + j] * wt[col * N + j]; }
  ${store(accumulate)}
}
`;
  return { wgsl, groups: groupsFor(x) };
}

/**
 * y = x·Wᵀ with W [n, k]: dx = g·W, reading W k-major as the forward kernel's upload holds it;
 * dW = gᵀ·x, one invocation per element of W summing over every row (token rows B·T, or
 * sequence rows B for a head), only for a trained W.
 */
export const matmulBackward: BackwardTemplate<'matmul'> = (node, context) => {
  const [x, w] = node.inputs as [number, number];
  if (context.node(w).op !== 'weight') {
    throw new Error(`matmul %${node.id}: the backward pass needs its second input to be a weight`);
  }
  const xShape = context.node(x).shape;
  const k = lastDim(xShape);
  const n = lastDim(node.shape);
  const rows = rowKind(node.shape);
  const emissions: BackwardEmission[] = [];
  const weightT: BackwardRead = { kind: 'weight', node: w, transpose: true };
  if (context.wanted[0]) {
    const accumulate = context.accumulate[0]!;
    const vec4 = k % 4 === 0 && n % 4 === 0;
    const kernel = vec4 ? dxVec4(k, n, rows, accumulate) : dxScalar(k, n, rows, accumulate, xShape);
    emissions.push({
      name: `matmul_dx${vec4 ? '_vec4' : ''}_${k}x${n}_${rows}${accumulateSuffix(accumulate)}`,
      ...kernel,
      reads: [GRADIENT, weightT],
      write: { kind: 'input', index: 0 },
    });
  }
  if (context.wanted[1]) {
    const accumulate = context.accumulate[1]!;
    emissions.push({
      name: `matmul_dw_${k}x${n}_${rows}${accumulateSuffix(accumulate)}`,
      wgsl: `${declare([
        { read: GRADIENT, name: 'g' },
        { read: value(x), name: 'x' },
      ])}
const K = ${k}u;
const N = ${n}u;

@compute @workgroup_size(${SIZE})
fn main(${ENTRY_BUILTINS}) {
  ${FLAT_GROUP}
  let i = group * ${SIZE}u + lid;
  if (i >= N * K) { return; }
  let col = i / K;
  let c = i % K;
  var v = 0.0;
  for (var row = 0u; row < ${rowCount(rows)}; row = row + 1u) { v = v + g[row * N + col] * x[row * K + c]; }
  ${store(accumulate)}
}
`,
      reads: [GRADIENT, value(x)],
      write: { kind: 'input', index: 1 },
      groups: { perToken: 0, perSequence: 0, fixed: n * k, divide: SIZE },
    });
  }
  return emissions;
};
