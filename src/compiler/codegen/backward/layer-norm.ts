import { lastDim, perRow, rowCount, rowKind, type RowKind } from '../kernel.js';
import { REDUCE, ROW, rowKernelStart } from '../kernels/rows.js';
import { bindings, f32 } from '../wgsl.js';
import {
  accumulateSuffix,
  declare,
  fixedGroups,
  GRADIENT,
  inputRead,
  perElementEntry,
  store,
} from './common.js';
import type { BackwardEmission, BackwardRead, BackwardTemplate } from './types.js';

const SCRATCH: BackwardRead = { kind: 'scratch' };

/** Each row's mean and 1/√(var + eps), as the forward kernel computes them (two passes). */
function statistics(d: number, eps: number, rows: RowKind, x: BackwardRead): BackwardEmission {
  return {
    name: `layer_norm_stats_${d}_${eps}_${rows}`,
    wgsl: `${bindings(['x', 'out'])}
${REDUCE}
${rowKernelStart(d, rowCount(rows))}
  var partial = 0.0;
  for (var i = lid; i < D; i = i + ${ROW}u) { partial = partial + x[base + i]; }
  let mean = workgroup_sum(partial, lid) / f32(D);
  partial = 0.0;
  for (var i = lid; i < D; i = i + ${ROW}u) { let c = x[base + i] - mean; partial = partial + c * c; }
  let inv = inverseSqrt(workgroup_sum(partial, lid) / f32(D) + ${f32(eps)});
  if (lid == 0u) { out[2u * row] = mean; out[2u * row + 1u] = inv; }
}
`,
    reads: [x],
    write: {
      kind: 'scratch',
      perToken: rows === 'token' ? 2 : 0,
      perSequence: rows === 'token' ? 0 : 2,
    },
    groups: perRow(1, 1, rows),
  };
}

/**
 * LayerNorm's VJP with the biased variance: dx = inv/d·(d·ĝ − Σĝ − x̂·Σĝx̂), ĝ = g·γ, one
 * workgroup per row; dγ = Σ g·x̂ and dβ = Σ g over the rows, one invocation per column.
 */
export const layerNormBackward: BackwardTemplate<'layer_norm'> = (node, context) => {
  const [x, gamma] = node.inputs as [number, number, number];
  const d = lastDim(node.shape);
  const rows = rowKind(node.shape);
  const count = rowCount(rows);
  const xRead = inputRead(context, x);
  const emissions: BackwardEmission[] = [statistics(d, node.attrs.eps, rows, xRead)];
  if (context.wanted[0]) {
    const accumulate = context.accumulate[0]!;
    emissions.push({
      name: `layer_norm_dx_${d}_${rows}${accumulateSuffix(accumulate)}`,
      wgsl: `${declare([
        { read: GRADIENT, name: 'g' },
        { read: xRead, name: 'x' },
        { read: inputRead(context, gamma), name: 'gamma' },
        { read: SCRATCH, name: 'stats' },
      ])}
${REDUCE}
${rowKernelStart(d, count)}
  let mean = stats[2u * row];
  let inv = stats[2u * row + 1u];
  var sum_g = 0.0;
  var sum_gn = 0.0;
  for (var c = lid; c < D; c = c + ${ROW}u) {
    let gh = g[base + c] * gamma[c];
    sum_g = sum_g + gh;
    sum_gn = sum_gn + gh * (x[base + c] - mean) * inv;
  }
  let total_g = workgroup_sum(sum_g, lid);
  let total_gn = workgroup_sum(sum_gn, lid);
  for (var c = lid; c < D; c = c + ${ROW}u) {
    let gh = g[base + c] * gamma[c];
    let v = inv / f32(D) * (f32(D) * gh - total_g - (x[base + c] - mean) * inv * total_gn);
    ${store(accumulate, 'base + c')}
  }
}
`,
      reads: [GRADIENT, xRead, inputRead(context, gamma), SCRATCH],
      write: { kind: 'input', index: 0 },
      groups: perRow(1, 1, rows),
    });
  }
  for (const index of [1, 2]) {
    if (!context.wanted[index]) continue;
    const accumulate = context.accumulate[index]!;
    const term = index === 1 ? 'g[at] * (x[at] - stats[2u * row]) * stats[2u * row + 1u]' : 'g[at]';
    emissions.push({
      name: `layer_norm_d${index === 1 ? 'gamma' : 'beta'}_${d}_${rows}${accumulateSuffix(accumulate)}`,
      wgsl: `${declare([
        { read: GRADIENT, name: 'g' },
        { read: xRead, name: 'x' },
        { read: SCRATCH, name: 'stats' },
      ])}
const D = ${d}u;

${perElementEntry('D')}
  var v = 0.0;
  for (var row = 0u; row < ${count}; row = row + 1u) {
    let at = row * D + i;
    v = v + ${term};
  }
  ${store(accumulate)}
}
`,
      reads: [GRADIENT, xRead, SCRATCH],
      write: { kind: 'input', index },
      groups: fixedGroups(d),
    });
  }
  return emissions;
};
