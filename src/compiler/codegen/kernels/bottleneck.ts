import type { LinearActivation } from '../../../runtime/ops/registry.js';
import { MAX_WORKGROUP_FLOATS } from '../../ir/limits.js';
import type { KernelArg } from '../kernel.js';
import { lastDim, perRowBlock, type KernelTemplate } from '../kernel.js';
import { activation, bindings, ENTRY_BUILTINS, f32, FLAT_GROUP, opaqueBound } from '../wgsl.js';

const SIZE = 64;
/** Rows one workgroup takes at most. */
const MAX_ROWS = 4;

/** One adapter of the kernel: its bottleneck width, its packed weights' binding, its attributes. */
export interface BottleneckAdapter {
  readonly r: number;
  readonly pack: string;
  readonly scale: number;
  readonly activation: LinearActivation;
  readonly read: 'y' | 'u';
}

/** What the generator makes a kernel of, whichever lanes it reads with. */
export interface BottleneckLayout {
  readonly d: number;
  /** Rows per workgroup: their y and their bottlenecks fit in workgroup memory. */
  readonly rows: number;
  /** The widest bottleneck, the slot of each row in `hidden`. */
  readonly rMax: number;
  readonly adapters: readonly BottleneckAdapter[];
  /** Whether the output is y after every adapter, or (one adapter) its scaled delta alone. */
  readonly residual: boolean;
}

/** How the kernel reads rows, bottlenecks and packed weights: elements of one float or four. */
export interface Lanes {
  readonly width: 1 | 4;
  readonly type: 'f32' | 'vec4f';
  /** The WGSL constant holding a row's length in elements. */
  readonly rowLength: 'D' | 'D4';
  /** The sum of the lane-wise products of two elements. */
  dot(a: string, b: string): string;
  /** One float of `array`: float `index` after element `base`. */
  float(array: string, base: string, index: string): string;
  /** The WGSL name of a loop's bias value, as each kernel has always spelled it. */
  readonly bias: 'b' | 'bias';
  /** The kernel name's prefix. */
  readonly prefix: '' | 'v4_';
}

export const SCALAR_LANES: Lanes = {
  width: 1,
  type: 'f32',
  rowLength: 'D',
  dot: (a, b) => `${a} * ${b}`,
  float: (array, base, index) => `${array}[${base} + ${index}]`,
  bias: 'b',
  prefix: '',
};

/**
 * Four floats per load where d and every r are multiples of 4, combined with dot(): a quarter of
 * the load instructions of the scalar kernel, which is what software GPUs spend their time on.
 */
export const VEC4_LANES: Lanes = {
  width: 4,
  type: 'vec4f',
  rowLength: 'D4',
  dot: (a, b) => `dot(${a}, ${b})`,
  float: (array, base, index) => `${array}[${base} + ${index} / 4u][${index} % 4u]`,
  bias: 'bias',
  prefix: 'v4_',
};

/** The kernel's WGSL: each adapter's down-projection into `hidden`, then its up-projection. */
export function bottleneckWgsl(layout: BottleneckLayout, lanes: Lanes): string {
  const { d, rows, rMax, adapters, residual } = layout;
  const { rowLength: D, type, bias } = lanes;
  /** An offset of `floats` floats as a WGSL element index. */
  const at = (floats: number) => `${floats / lanes.width}u`;
  const each = (body: (row: number) => string) =>
    Array.from({ length: rows }, (_, row) => body(row)).join(' ');
  const biases = Array(rows).fill(bias).join(', ');
  const functions = [...new Set(adapters.map((a) => a.activation))]
    .map((a) => activation(a).functions)
    .filter(Boolean);

  const steps = adapters.map((adapter, i) => {
    const { r, pack, scale, read } = adapter;
    const z = (row: number) =>
      read === 'u' ? `u[min(row0 + ${row}u, last) * ${D} + c]` : `yrow[${at(row * d)} + c]`;
    const yAt = (row: number) => lanes.float('yrow', at(row * d), 'c');
    const update = (row: number) =>
      residual
        ? `${yAt(row)} = ${yAt(row)} + ${f32(scale)} * s[${row}];`
        : `if (row0 + ${row}u < params.rows) { ${lanes.float('out', `(row0 + ${row}u) * ${D}`, 'c')} = ${f32(scale)} * s[${row}]; }`;
    const { apply } = activation(adapter.activation);
    return `  // adapter ${i}: r = ${r}
  for (var j = lid; j < ${r}u; j = j + ${SIZE}u) {
    let ${bias} = ${lanes.float(pack, at(r * d), 'j')};
    var s = array<f32, ROWS>(${biases});
    for (var c = 0u; c < ${opaqueBound(D)}; c = c + 1u) {
      let w = ${pack}[j * ${D} + c];
      ${each((row) => `s[${row}] = s[${row}] + ${lanes.dot('w', z(row))};`)}
    }
    ${each((row) => `${lanes.float('hidden', at(row * rMax), 'j')} = ${apply(`s[${row}]`)};`)}
  }
  workgroupBarrier();
  for (var c = lid; c < D; c = c + ${SIZE}u) {
    let ${bias} = ${lanes.float(pack, at(r * d + r + d * r), 'c')};
    var s = array<f32, ROWS>(${biases});
    for (var j = 0u; j < ${opaqueBound(at(r))}; j = j + 1u) {
      let w = ${pack}[${at(r * d + r)} + c * ${at(r)} + j];
      ${each((row) => `s[${row}] = s[${row}] + ${lanes.dot('w', `hidden[${at(row * rMax)} + j]`)};`)}
    }
    ${each(update)}
  }
  workgroupBarrier();`;
  });

  const names = ['y', 'u', ...adapters.map((a) => a.pack), 'out'];
  const rowLength = D === 'D' ? '' : `const ${D} = ${d / lanes.width}u;\n`;
  const bound = bindings(
    names,
    names.map(() => type),
  );
  return `${bound}
${functions.join('\n')}
const D = ${d}u;
${rowLength}const ROWS = ${rows}u;
var<workgroup> yrow: array<${type}, ${(rows * d) / lanes.width}>;
var<workgroup> hidden: array<${type}, ${(rows * rMax) / lanes.width}>;

@compute @workgroup_size(${SIZE})
fn main(${ENTRY_BUILTINS}) {
  ${FLAT_GROUP}
  let row0 = group * ROWS;
  if (row0 >= params.rows) { return; }
  let last = params.rows - 1u;
  for (var i = lid; i < ROWS * ${D}; i = i + ${SIZE}u) { yrow[i] = y[min(row0 + i / ${D}, last) * ${D} + i % ${D}]; }
  workgroupBarrier();
${steps.join('\n')}
${residual ? `  for (var i = lid; i < ROWS * ${D}; i = i + ${SIZE}u) { if (row0 + i / ${D} < params.rows) { out[row0 * ${D} + i] = yrow[i]; } }` : ''}
}
`;
}

/**
 * Adapters at one site in one kernel. A workgroup takes up to 4 rows (as many as fit): their y
 * and their r-wide bottlenecks stay in workgroup memory, and each weight read serves all of them
 * (one row per workgroup would read every adapter weight once per token). Each adapter's four
 * tensors arrive packed in one buffer (W_down [r, d], b_down [r], W_up [d, r], b_up [d]), so k
 * adapters take k bindings.
 */
export const bottleneckKernel: KernelTemplate<'bottleneck'> = (node, context) => {
  const [y, u, ...weights] = node.inputs as [number, number, ...number[]];
  const d = lastDim(node.shape);
  const { scales, activations, reads, residual } = node.attrs;
  const adapters = scales.map((scale, i): BottleneckAdapter => ({
    r: context.node(weights[4 * i]!).shape[0] as number,
    pack: `adapter${i}`,
    scale,
    activation: activations[i]!,
    read: reads[i]!,
  }));
  const rMax = Math.max(...adapters.map((a) => a.r));
  const rows = Math.max(1, Math.min(MAX_ROWS, Math.floor(MAX_WORKGROUP_FLOATS / (d + rMax))));
  const lanes = d % 4 === 0 && adapters.every((a) => a.r % 4 === 0) ? VEC4_LANES : SCALAR_LANES;
  const args: KernelArg[] = [
    { kind: 'value', node: y },
    { kind: 'value', node: u },
    ...adapters.map((_, i): KernelArg => ({
      kind: 'weights',
      parts: weights
        .slice(4 * i, 4 * i + 4)
        .map((w) => ({ weight: context.weightName(w)!, transpose: false })),
    })),
  ];
  const signature = adapters
    .map((a) => `${a.r}${a.activation}${a.read}x${Math.fround(a.scale)}`)
    .join('_');
  return {
    name: `bottleneck_${d}_${lanes.prefix}${signature}${residual ? '' : '_delta'}`,
    wgsl: bottleneckWgsl({ d, rows, rMax, adapters, residual }, lanes),
    args,
    groups: perRowBlock(1, rows, 1),
  };
};
