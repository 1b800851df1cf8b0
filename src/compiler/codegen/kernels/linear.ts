import type { NodeOf } from '../../../runtime/ops/node.js';
import type { LinearActivation, OpAttrs } from '../../../runtime/ops/registry.js';
import {
  argOf,
  lastDim,
  perRow,
  perRowBlock,
  rowCount,
  rowKind,
  rowSuffix,
  type KernelArg,
  type RowKind,
  type KernelContext,
  type KernelEmission,
} from '../kernel.js';
import { activation, bindings, ENTRY_BUILTINS, f32, FLAT_GROUP } from '../wgsl.js';

/** The parts of a matmul-with-epilogue, for `matmul` and `linear` nodes alike. */
interface LinearShape {
  readonly k: number;
  /** Output columns in all. */
  readonly n: number;
  /** The window of output columns this kernel computes (all of them unless the weight is split). */
  readonly start: number;
  readonly count: number;
  readonly bias: boolean;
  readonly residual: boolean;
  readonly activation: LinearActivation;
  readonly scale: number;
  readonly args: KernelArg[];
  /** Token rows (B·T) or, on a head's [B, n] values, sequence rows (B). */
  readonly rows: RowKind;
}

type LinearNode = NodeOf<'matmul'> | NodeOf<'linear'>;

/** A matmul is a linear with no epilogue. */
const MATMUL_EPILOGUE: OpAttrs<'linear'> = {
  activation: 'none',
  scale: 1,
  bias: false,
  residual: false,
  transposeWeight: false,
};

/**
 * Weights go to the GPU k-major ([in, out]): a PyTorch [out, in] weight is transposed once at
 * upload, so the kernels read consecutive output columns as one vec4.
 */
function describe(node: LinearNode, context: KernelContext): LinearShape {
  const [x, w] = node.inputs as [number, number];
  const { transposeWeight: transposed, ...afterMatmul } =
    node.op === 'linear' ? node.attrs : MATMUL_EPILOGUE;
  const weightShape = context.node(w).shape as [number, number];
  const k = transposed ? weightShape[0] : weightShape[1];
  const n = lastDim(node.shape);
  const { start, count } = context.columns ?? { start: 0, count: n };
  const window: [number, number] | undefined = count < n ? [start, start + count] : undefined;
  const args = [argOf(context, x), argOf(context, w, !transposed, window)];
  if (afterMatmul.bias) args.push(argOf(context, node.inputs[2]!, false, window));
  if (afterMatmul.residual) args.push(argOf(context, node.inputs[node.inputs.length - 1]!));
  return { k, n, start, count, ...afterMatmul, args, rows: rowKind(node.shape) };
}

function kernelName(kind: string, s: LinearShape): string {
  const epilogue = [
    s.bias ? 'bias' : '',
    s.activation !== 'none' ? s.activation : '',
    s.scale !== 1 ? `x${Math.fround(s.scale)}` : '',
    s.residual ? 'res' : '',
  ]
    .filter(Boolean)
    .join('_');
  const window = s.count < s.n ? `_cols${s.start}-${s.start + s.count}` : '';
  return `${kind}_${s.k}x${s.n}${window}${epilogue ? `_${epilogue}` : ''}${rowSuffix(s.rows)}`;
}

function bindingNames(s: LinearShape): string[] {
  return ['x', 'w', ...(s.bias ? ['bias'] : []), ...(s.residual ? ['res'] : [])];
}

/** The epilogue on one value `v` of type `type` at output index `at`. */
function epilogue(s: LinearShape, type: 'f32' | 'vec4f', at: string, col: string): string {
  const { apply } = activation(s.activation);
  const lines: string[] = [];
  if (s.bias) lines.push(`v = v + bias[${col}];`);
  if (s.activation !== 'none') {
    lines.push(
      type === 'f32'
        ? `v = ${apply('v')};`
        : `v = vec4f(${['x', 'y', 'z', 'w'].map((c) => apply(`v.${c}`)).join(', ')});`,
    );
  }
  if (s.scale !== 1) lines.push(`v = v * ${f32(s.scale)};`);
  if (s.residual) lines.push(`v = v + res[${at}];`);
  lines.push(`out[${at}] = v;`);
  return lines.join(' ');
}

/**
 * Software profile (lavapipe, SwiftShader): register blocking without workgroup memory. Each
 * invocation computes 4 rows x 4 columns (one vec4), k unrolled by 4; measured fastest there.
 */
function softwareVec4(s: LinearShape) {
  const names = bindingNames(s);
  const k4 = s.k / 4;
  const n4 = s.n / 4;
  const w4 = s.count / 4;
  const rows = [0, 1, 2, 3];
  const wgsl = `${bindings([...names, 'out'], [...names.map(() => 'vec4f'), 'vec4f'])}
${activation(s.activation).functions}
const K4 = ${k4}u;
const N4 = ${n4}u;
const W4 = ${w4}u;
const C4 = ${s.start / 4}u;

@compute @workgroup_size(64)
fn main(${ENTRY_BUILTINS}) {
  ${FLAT_GROUP}
  let index = group * 64u + lid;
  let col = index % W4;
  let row0 = (index / W4) * 4u;
  if (row0 >= ${rowCount(s.rows)}) { return; }
  let last = ${rowCount(s.rows)} - 1u;
${rows.map((r) => `  let x${r} = min(row0 + ${r}u, last) * K4;`).join('\n')}
${rows.map((r) => `  var a${r} = vec4f(0.0);`).join('\n')}
  for (var k = 0u; k < K4; k = k + 1u) {
    let w0 = w[(4u * k) * W4 + col];
    let w1 = w[(4u * k + 1u) * W4 + col];
    let w2 = w[(4u * k + 2u) * W4 + col];
    let w3 = w[(4u * k + 3u) * W4 + col];
${rows.map((r) => `    let v${r} = x[x${r} + k];\n    a${r} = a${r} + v${r}.x * w0 + v${r}.y * w1 + v${r}.z * w2 + v${r}.w * w3;`).join('\n')}
  }
${rows.map((r) => `  if (row0 + ${r}u < ${rowCount(s.rows)}) { var v = a${r}; ${epilogue(s, 'vec4f', `(row0 + ${r}u) * N4 + C4 + col`, 'col')} }`).join('\n')}
}
`;
  return { wgsl, groups: perRowBlock(w4, 4, 64, s.rows) };
}

/** Software profile for sizes that are not multiples of 4: one output per invocation. */
function softwareScalar(s: LinearShape) {
  const names = bindingNames(s);
  const wgsl = `${bindings([...names, 'out'])}
${activation(s.activation).functions}
const K = ${s.k}u;
const N = ${s.n}u;
const W = ${s.count}u;
const C = ${s.start}u;

@compute @workgroup_size(64)
fn main(${ENTRY_BUILTINS}) {
  ${FLAT_GROUP}
  let index = group * 64u + lid;
  if (index >= ${rowCount(s.rows)} * W) { return; }
  let row = index / W;
  let col = index % W;
  var sum = 0.0;
  for (var k = 0u; k < K; k = k + 1u) { sum = sum + x[row * K + k] * w[k * W + col]; }
  var v = sum;
  ${epilogue(s, 'f32', 'row * N + C + col', 'col')}
}
`;
  return { wgsl, groups: perRow(s.count, 64, s.rows) };
}

/** GPU profile: 16x16 output tiles, x and w tiles staged in workgroup memory. */
function gpuTiled(s: LinearShape) {
  const names = bindingNames(s);
  const tilesN = Math.ceil(s.count / 16);
  const wgsl = `${bindings([...names, 'out'])}
${activation(s.activation).functions}
const K = ${s.k}u;
const N = ${s.n}u;
const W = ${s.count}u;
const C = ${s.start}u;
const TILES_N = ${tilesN}u;
var<workgroup> xs: array<array<f32, 16>, 16>;
var<workgroup> ws: array<array<f32, 16>, 16>;

@compute @workgroup_size(16, 16)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_id) local: vec3u) {
  ${FLAT_GROUP}
  let row = (group / TILES_N) * 16u + local.y;
  let col = (group % TILES_N) * 16u + local.x;
  var sum = 0.0;
  for (var t = 0u; t < K; t = t + 16u) {
    let xk = t + local.x;
    let wk = t + local.y;
    var xv = 0.0;
    if (row < ${rowCount(s.rows)} && xk < K) { xv = x[row * K + xk]; }
    var wv = 0.0;
    if (wk < K && col < W) { wv = w[wk * W + col]; }
    xs[local.y][local.x] = xv;
    ws[local.y][local.x] = wv;
    workgroupBarrier();
    for (var i = 0u; i < 16u; i = i + 1u) { sum = sum + xs[local.y][i] * ws[i][local.x]; }
    workgroupBarrier();
  }
  if (row < ${rowCount(s.rows)} && col < W) {
    var v = sum;
    ${epilogue(s, 'f32', 'row * N + C + col', 'col')}
  }
}
`;
  return { wgsl, groups: perRowBlock(tilesN, 16, 1, s.rows) };
}

/** `matmul` and `linear`: the matmul and its fused epilogue, for the target's profile. */
export function linearKernel(node: LinearNode, context: KernelContext): KernelEmission {
  const s = describe(node, context);
  if (context.target === 'gpu')
    return { name: kernelName('linear_tiled', s), ...gpuTiled(s), args: s.args };
  if (s.k % 4 === 0 && s.n % 4 === 0 && s.start % 4 === 0 && s.count % 4 === 0)
    return { name: kernelName('linear_vec4', s), ...softwareVec4(s), args: s.args };
  return { name: kernelName('linear_scalar', s), ...softwareScalar(s), args: s.args };
}
