import { BackwardError } from '../../../runtime/cpu/backward/differentiable-ops.js';
import { lastDim, perRowBlock, rowCount, rowKind, type RowKind } from '../kernel.js';
import { bindings, ENTRY_BUILTINS, FLAT_GROUP, opaqueBound } from '../wgsl.js';
import {
  accumulateSuffix,
  declare,
  fixedGroups,
  GRADIENT,
  groupsFor,
  perElementEntry,
  store,
  value,
} from './common.js';
import type { BackwardEmission, BackwardRead, BackwardTemplate } from './types.js';
import type { Shape } from '../../../runtime/program.js';

/**
 * dx = g·W from the k-major upload Wᵀ [k, n] the forward kernel reads, each invocation 4 rows by
 * 4 columns of dx as 16 dot products of vec4s along n (no second copy of W in its own layout).
 */
function dxVec4(
  k: number,
  n: number,
  [start, end]: readonly [number, number],
  rows: RowKind,
  accumulate: boolean,
): Pick<BackwardEmission, 'wgsl' | 'groups'> {
  const count = rowCount(rows);
  const r4 = [0, 1, 2, 3];
  const wgsl = `${bindings(['g', 'wt', 'out'], ['vec4f', 'vec4f', 'vec4f'])}
const N4 = ${n / 4}u;
const K4 = ${k / 4}u;
const S4 = ${start / 4}u;
const C4 = ${(end - start) / 4}u;

@compute @workgroup_size(64)
fn main(${ENTRY_BUILTINS}) {
  ${FLAT_GROUP}
  let index = group * 64u + lid;
  let col = index % K4;
  let row0 = (index / K4) * 4u;
  if (row0 >= ${count}) { return; }
  let last = ${count} - 1u;
${r4.map((r) => `  let x${r} = min(row0 + ${r}u, last) * N4 + S4;\n  var a${r} = vec4f(0.0);`).join('\n')}
  for (var j = 0u; j < ${opaqueBound('C4')}; j = j + 1u) {
${r4.map((c) => `    let w${c} = wt[(4u * col + ${c}u) * C4 + j];`).join('\n')}
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
  [start, end]: readonly [number, number],
  rows: RowKind,
  accumulate: boolean,
  x: Shape,
): Pick<BackwardEmission, 'wgsl' | 'groups'> {
  const wgsl = `${bindings(['g', 'wt', 'out'])}
const K = ${k}u;
const N = ${n}u;
const S = ${start}u;
const C = ${end - start}u;

${perElementEntry(`${rowCount(rows)} * K`)}
  let row = i / K;
  let col = i % K;
  var v = 0.0;
  for (var j = 0u; j < ${opaqueBound('C')}; j = j + 1u) { v = v + g[row * N + S + j] * wt[col * C + j]; }
  ${store(accumulate)}
}
`;
  return { wgsl, groups: groupsFor(x) };
}

/**
 * The windows of output columns the forward plan splits a matmul's weight into when it is past
 * one storage binding (codegen/plan.ts, columnWindows): multiples of 4 columns that fit.
 */
function columnWindows(k: number, n: number, maxBindingBytes: number): [number, number][] {
  if (4 * n * k <= maxBindingBytes) return [[0, n]];
  const perPart = Math.floor(maxBindingBytes / 4 / k / 4) * 4;
  if (perPart < 4)
    throw new Error(`a single column of a ${n}x${k} weight exceeds one storage binding`);
  const windows: [number, number][] = [];
  for (let start = 0; start < n; start += perPart)
    windows.push([start, Math.min(n, start + perPart)]);
  return windows;
}

/**
 * y = x·Wᵀ with W [n, k]: dx = g·W, reading W k-major as the forward kernel's upload holds it;
 * dW = gᵀ·x, one invocation per element of W summing over every row (token rows B·T, or
 * sequence rows B for a head), only for a trained W.
 */
export const matmulBackward: BackwardTemplate<'matmul'> = (node, context) => {
  const [x, w] = node.inputs as [number, number];
  const weightNode = context.node(w);
  if (weightNode.op !== 'weight') {
    throw new BackwardError(
      `matmul %${node.id}: the backward pass needs its second input to be a weight`,
    );
  }
  const weightName = weightNode.attrs.name;
  const xShape = context.node(x).shape;
  const k = lastDim(xShape);
  const n = lastDim(node.shape);
  const rows = rowKind(node.shape);
  const emissions: BackwardEmission[] = [];
  const windows = columnWindows(k, n, context.maxBindingBytes);
  if (context.wanted[0]) {
    windows.forEach((window, part) => {
      // The first window writes (or adds to another consumer's part), the others add to it.
      const accumulate = part > 0 || context.accumulate[0]!;
      const vec4 = k % 4 === 0 && n % 4 === 0 && window[0] % 4 === 0 && window[1] % 4 === 0;
      const kernel = vec4
        ? dxVec4(k, n, window, rows, accumulate)
        : dxScalar(k, n, window, rows, accumulate, xShape);
      const split = windows.length > 1;
      const weight: BackwardRead = {
        kind: 'weight',
        node: w,
        transpose: true,
        ...(split ? { columns: window } : {}),
      };
      emissions.push({
        name: `matmul_dx${vec4 ? '_vec4' : ''}_${k}x${n}${split ? `_cols${window[0]}-${window[1]}` : ''}_${rows}${accumulateSuffix(accumulate)}`,
        ...kernel,
        reads: [GRADIENT, weight],
        write: { kind: 'input', index: 0 },
      });
    });
  }
  if (context.wanted[1]) {
    if (windows.length > 1) {
      throw new BackwardError(
        `matmul %${node.id}: trained weight '${weightName}' takes ${4 * n * k} bytes, past the ${context.maxBindingBytes} one storage binding holds; the backward pass splits frozen weights only`,
      );
    }
    const accumulate = context.accumulate[1]!;
    emissions.push({
      name: `matmul_dw_${k}x${n}_${rows}${accumulateSuffix(accumulate)}`,
      wgsl: `${declare([
        { read: GRADIENT, name: 'g' },
        { read: value(x), name: 'x' },
      ])}
const K = ${k}u;
const N = ${n}u;

${perElementEntry('N * K')}
  let col = i / K;
  let c = i % K;
  var v = 0.0;
  for (var row = 0u; row < ${rowCount(rows)}; row = row + 1u) { v = v + g[row * N + col] * x[row * K + c]; }
  ${store(accumulate)}
}
`,
      reads: [GRADIENT, value(x)],
      write: { kind: 'input', index: 1 },
      groups: fixedGroups(n * k),
    });
  }
  return emissions;
};
