/**
 * Kernel benchmark: a script, not a test (nothing here asserts on time).
 *
 * 1. GFLOP/s of the BERT-base FFN matmuls at B=1, T=128 for the compiler's software-profile
 *    kernel, its gpu-profile tiled kernel and a naive kernel, on one device with the same seeded
 *    inputs, each checked against a CPU f64 reference; then variants of the register-blocked
 *    kernel (rows x vec4 columns, workgroup size, k unroll, fma).
 * 2. Dispatches per layer, distinct kernels and planned activation bytes, fused vs unfused.
 * 3. Gentle waiting (gpuWait) vs a plain await, over forward passes of a 2-layer Pfeiffer model.
 *
 * Build and run from the repository root:
 *   npx tsc -p bench/tsconfig.json && node dist/bench/kernels.js [--quick] [--dispatches 20] ...
 * Prints tables and writes bench/results/kernels.json.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { compile } from '../src/compiler/index.js';
import {
  ACTIVATION_FUNCTIONS,
  bindings,
  ENTRY_BUILTINS,
  FLAT_GROUP,
} from '../src/compiler/codegen/wgsl.js';
import { erf } from '../src/runtime/cpu/math.js';
import { prepareInputs } from '../src/runtime/inputs.js';
import { evaluateSize, type Program, type SizeExpr } from '../src/runtime/program.js';
import { normalArray } from '../src/runtime/random.js';
import { Runtime } from '../src/runtime/runtime.js';
import {
  BufferUsage,
  MapMode,
  MAX_WORKGROUPS_PER_DIMENSION,
  ShaderStage,
} from '../src/runtime/webgpu/constants.js';
import { GpuDevice, withErrorScopes } from '../src/runtime/webgpu/device.js';
import { gpuWait } from '../src/runtime/webgpu/wait.js';
import { initWeights } from '../src/runtime/weights.js';

// ---------------------------------------------------------------------------------------------
// Options and small helpers

const { values: options } = parseArgs({
  options: {
    dispatches: { type: 'string', default: '20' },
    reps: { type: 'string', default: '5' },
    warmups: { type: 'string', default: '3' },
    passes: { type: 'string', default: '20' },
    'target-seconds': { type: 'string', default: '1' },
    quick: { type: 'boolean', default: false },
    'no-variants': { type: 'boolean', default: false },
    only: { type: 'string', default: 'matmul,plan,wait' },
    out: { type: 'string' },
    /** Only the variants whose name matches this regular expression. */
    match: { type: 'string', default: '' },
  },
});

function count(name: string, text: string, least: number): number {
  const value = Number(text);
  if (!Number.isInteger(value) || value < least) {
    console.error(`--${name} must be an integer of at least ${least}, got '${text}'`);
    process.exit(2);
  }
  return value;
}

const DISPATCHES = count('dispatches', options.dispatches, 1);
const REPS = count('reps', options.reps, 1);
/** Fewer dispatches per measurement for kernels so slow that DISPATCHES would take longer. */
const TARGET_SECONDS = Number(options['target-seconds']);
if (!(TARGET_SECONDS > 0)) {
  console.error(`--target-seconds must be a positive number, got '${options['target-seconds']}'`);
  process.exit(2);
}
const MIN_DISPATCHES = Math.min(2, DISPATCHES);
const WARMUPS = count('warmups', options.warmups, 1);
const PASSES = count('passes', options.passes, 1);
const SECTIONS = new Set(options.only.split(','));
const VARIANTS = !options.quick && !options['no-variants'];
const MATCH = new RegExp(options.match);

/** The repository root: the nearest folder above this file with package.json and examples/. */
function findRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(join(dir, 'package.json')) && existsSync(join(dir, 'examples'))) return dir;
    const up = dirname(dir);
    if (up === dir) return process.cwd();
    dir = up;
  }
}
const ROOT = findRoot();

const median = (xs: readonly number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
};
const mean = (xs: readonly number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

const roundUp16 = (bytes: number) => Math.max(16, Math.ceil(bytes / 16) * 16);

function table(headers: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const numeric = headers.map((_, i) => rows.every((r) => /^[-+0-9.,e%x× ]*$/.test(r[i]!)));
  const line = (cells: readonly string[]) =>
    cells
      .map((c, i) => (numeric[i] ? c.padStart(widths[i]!) : c.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  return [line(headers), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

const fixed = (x: number, digits: number) => (Number.isFinite(x) ? x.toFixed(digits) : String(x));

// ---------------------------------------------------------------------------------------------
// GPU helpers

/** One storage buffer holding `data`. */
function storageBuffer(device: GPUDevice, data: Float32Array, label: string): GPUBuffer {
  const buffer = device.createBuffer({
    size: roundUp16(data.byteLength),
    usage: BufferUsage.STORAGE | BufferUsage.COPY_DST | BufferUsage.COPY_SRC,
    label,
  });
  device.queue.writeBuffer(buffer, 0, data.buffer, data.byteOffset, data.byteLength);
  return buffer;
}

function paramsBuffer(device: GPUDevice, batch: number, seq: number): GPUBuffer {
  const buffer = device.createBuffer({
    size: 16,
    usage: BufferUsage.UNIFORM | BufferUsage.COPY_DST,
    label: 'params',
  });
  const params = new Uint32Array([batch, seq, batch * seq, 0]);
  device.queue.writeBuffer(buffer, 0, params.buffer, 0, 16);
  return buffer;
}

/** A pipeline with the runtime's layout: params uniform at 0, storage 1..n, the last written. */
async function createPipeline(
  device: GPUDevice,
  name: string,
  wgsl: string,
  storageBindings: number,
): Promise<GPUComputePipeline> {
  const module = device.createShaderModule({ code: wgsl, label: name });
  const entries: GPUBindGroupLayoutEntry[] = [
    { binding: 0, visibility: ShaderStage.COMPUTE, buffer: { type: 'uniform' } },
  ];
  for (let i = 1; i <= storageBindings; i++) {
    const type = i === storageBindings ? 'storage' : 'read-only-storage';
    entries.push({ binding: i, visibility: ShaderStage.COMPUTE, buffer: { type } });
  }
  const layout = device.createPipelineLayout({
    bindGroupLayouts: [device.createBindGroupLayout({ entries, label: name })],
  });
  try {
    return await gpuWait(() =>
      device.createComputePipelineAsync({
        layout,
        compute: { module, entryPoint: 'main' },
        label: name,
      }),
    );
  } catch (error) {
    const info = await gpuWait(() => module.getCompilationInfo());
    const messages = info.messages.map((m) => `${m.lineNum}:${m.linePos} ${m.message}`);
    throw new Error(`kernel '${name}' failed to build: ${messages.join('; ') || String(error)}`);
  }
}

function bindGroup(
  device: GPUDevice,
  pipeline: GPUComputePipeline,
  buffers: readonly GPUBuffer[],
): GPUBindGroup {
  return device.createBindGroup({
    layout: pipeline.getBindGroupLayout(0),
    entries: buffers.map((buffer, binding) => ({ binding, resource: { buffer } })),
  });
}

/** Workgroups laid out over x and y as the runtime does. */
function dispatch(pass: GPUComputePassEncoder, count: number): void {
  const x = Math.min(count, MAX_WORKGROUPS_PER_DIMENSION);
  pass.dispatchWorkgroups(x, Math.ceil(count / x));
}

async function readBack(device: GPUDevice, source: GPUBuffer, length: number) {
  const bytes = roundUp16(length * 4);
  const staging = device.createBuffer({
    size: bytes,
    usage: BufferUsage.MAP_READ | BufferUsage.COPY_DST,
  });
  const encoder = device.createCommandEncoder();
  encoder.copyBufferToBuffer(source, 0, staging, 0, bytes);
  device.queue.submit([encoder.finish()]);
  await gpuWait(() => staging.mapAsync(MapMode.READ, 0, bytes));
  const data = new Float32Array(staging.getMappedRange(0, bytes).slice(0, length * 4));
  staging.unmap();
  staging.destroy();
  return data;
}

// ---------------------------------------------------------------------------------------------
// 1. Matmul kernels

interface MatmulCase {
  readonly id: 'ffn1' | 'ffn2';
  readonly label: string;
  readonly m: number;
  readonly k: number;
  readonly n: number;
  readonly gelu: boolean;
}

const BATCH = 1;
const SEQ = 128;
const CASES: readonly MatmulCase[] = [
  { id: 'ffn1', label: 'x[128,768]·W1ᵀ +bias +gelu', m: BATCH * SEQ, k: 768, n: 3072, gelu: true },
  { id: 'ffn2', label: 'h[128,3072]·W2ᵀ +bias', m: BATCH * SEQ, k: 3072, n: 768, gelu: false },
];

/** A kernel to time: WGSL with bindings (params, x, w [k, n], bias, out) and its workgroups. */
interface Candidate {
  readonly label: string;
  readonly kernel: string;
  readonly wgsl: string;
  readonly groups: SizeExpr;
}

/** One BERT-base layer without adapters: its FFN matmuls are the kernels under test. */
const FFN_SPEC = `model bench-ffn {
  hidden 768
  heads 12
  ffn 3072
  layers 1
  activation gelu
  norm post
  eps 1e-12
  attention bidirectional
}
`;

const compiledFfn = new Map<string, Program>();

/** The compiler's own kernel for the case's matmul, as `compile` emits it for `target`. */
function compilerKernel(target: 'software' | 'gpu', c: MatmulCase): Candidate {
  let program = compiledFfn.get(target);
  if (!program) {
    const result = compile(FFN_SPEC, { fileName: 'bench-ffn.adapt', target });
    if (!result.program?.gpu) {
      const messages = result.diagnostics.map((d) => d.message).join('; ');
      throw new Error(`the FFN spec did not compile: ${messages}`);
    }
    program = result.program;
    compiledFfn.set(target, program);
  }
  const plan = program.gpu!;
  const name = `${target === 'gpu' ? 'linear_tiled' : 'linear_vec4'}_${c.k}x${c.n}_bias${c.gelu ? '_gelu' : ''}`;
  const index = plan.kernels.findIndex((k) => k.name === name || k.name.startsWith(`${name}#`));
  const kernel = plan.kernels[index];
  if (!kernel) {
    const names = plan.kernels.map((k) => k.name).join(', ');
    throw new Error(`no kernel ${name} in the compiled FFN spec; it has ${names}`);
  }
  if (kernel.storageBindings !== 4)
    throw new Error(`${kernel.name} has ${kernel.storageBindings} storage bindings, expected 4`);
  const use = plan.dispatches.find((d) => d.kernel === index)!;
  return {
    label: target === 'gpu' ? 'compiler gpu (tiled 16x16)' : 'compiler software (4x vec4)',
    kernel: kernel.name,
    wgsl: kernel.wgsl,
    groups: use.groups,
  };
}

const GELU_VEC4 = (v: string) =>
  `vec4f(act_gelu(${v}.x), act_gelu(${v}.y), act_gelu(${v}.z), act_gelu(${v}.w))`;

/** One invocation per output element, a plain loop over k, no blocking. */
function naiveKernel(c: MatmulCase): Candidate {
  const wgsl = `${bindings(['x', 'w', 'bias', 'out'])}
${c.gelu ? ACTIVATION_FUNCTIONS.gelu : ''}
const K = ${c.k}u;
const N = ${c.n}u;

@compute @workgroup_size(64)
fn main(${ENTRY_BUILTINS}) {
  ${FLAT_GROUP}
  let index = group * 64u + lid;
  if (index >= params.rows * N) { return; }
  let row = index / N;
  let col = index % N;
  var sum = 0.0;
  for (var k = 0u; k < K; k = k + 1u) { sum = sum + x[row * K + k] * w[k * N + col]; }
  var v = sum + bias[col];
  ${c.gelu ? 'v = act_gelu(v);' : ''}
  out[index] = v;
}
`;
  return {
    label: 'naive (1 output / invocation)',
    kernel: `naive_${c.k}x${c.n}`,
    wgsl,
    groups: { perToken: c.n, perSequence: 0, fixed: 0, divide: 64 },
  };
}

/**
 * A register-blocked kernel: each invocation computes `rows` rows x `cols` vec4 columns.
 * How invocations map to outputs:
 * - 'flat': rows and columns both from the flat invocation index (the compiler's kernel);
 * - 'urows': a workgroup covers one block of rows and `workgroup` column blocks, so x's index
 *   comes from the workgroup id alone and is uniform;
 * - 'lanes': the transpose: a workgroup covers `workgroup`·rows rows and one block of columns,
 *   so w's index is uniform across the workgroup and only x is read per invocation.
 * On a SIMD-over-invocations driver (llvmpipe) that emits a uniform load as one scalar load and
 * a broadcast, 'urows' and 'lanes' would read far less per multiply-add than 'flat'; whether the
 * driver in use does is what they measure.
 */
interface Variant {
  readonly mapping: 'flat' | 'urows' | 'lanes';
  readonly rows: number;
  readonly cols: number;
  readonly workgroup: number;
  /** vec4 steps of k (4 scalar k each) per loop iteration. */
  readonly unroll: number;
  /** fma() instead of a + b * c. */
  readonly fma: boolean;
  /** An invocation's vec4 columns N4/cols apart instead of adjacent ('flat' and 'urows'). */
  readonly strided: boolean;
  /**
   * No early `return` for invocations past the last row: their reads are clamped to the last
   * row anyway, and only the stores are guarded. A return under a per-invocation condition
   * puts the rest of the shader under an execution mask on SIMD-over-invocations drivers.
   */
  readonly noReturn: boolean;
}

const variantName = (v: Variant) =>
  `${v.mapping}_r${v.rows}c${v.cols}_wg${v.workgroup}_u${v.unroll}${v.fma ? '_fma' : ''}${v.strided ? '_strided' : ''}${v.noReturn ? '_noret' : ''}`;

const range = (n: number) => Array.from({ length: n }, (_, i) => i);

/** Blocks of work along rows and columns, and the workgroups of a dispatch as a SizeExpr. */
function layout(c: MatmulCase, v: Variant) {
  const k4 = c.k / 4;
  const n4 = c.n / 4;
  const blocks = n4 / v.cols;
  if (!Number.isInteger(blocks) || k4 % v.unroll !== 0)
    throw new Error(`${variantName(v)} does not divide ${c.k}x${c.n}`);
  const colGroups = Math.ceil(blocks / v.workgroup);
  // Each SizeExpr is ceil((perToken·rows + fixed) / divide), at least the workgroups needed.
  const groups: SizeExpr =
    v.mapping === 'flat'
      ? {
          perToken: blocks,
          perSequence: 0,
          fixed: blocks * (v.rows - 1),
          divide: v.rows * v.workgroup,
        }
      : v.mapping === 'urows'
        ? { perToken: colGroups, perSequence: 0, fixed: colGroups * (v.rows - 1), divide: v.rows }
        : {
            perToken: blocks,
            perSequence: 0,
            fixed: blocks * (v.rows * v.workgroup - 1),
            divide: v.rows * v.workgroup,
          };
  return { k4, n4, blocks, colGroups, groups };
}

function blockedWgsl(c: MatmulCase, v: Variant): string {
  const { k4, n4, blocks, colGroups } = layout(c, v);
  const R = range(v.rows);
  const C = range(v.cols);
  const U = range(v.unroll);
  const column = (j: number) =>
    v.mapping !== 'lanes' && v.strided ? `cb + ${j * blocks}u` : `cb * ${v.cols}u + ${j}u`;
  const update = (r: number, j: number, u: number) => {
    const a = `a${r}_${j}`;
    const x = `v${u}_${r}`;
    const w = (q: number) => `w${u}_${j}_${q}`;
    if (v.fma) {
      return `    ${a} = fma(vec4f(${x}.x), ${w(0)}, ${a}); ${a} = fma(vec4f(${x}.y), ${w(1)}, ${a}); ${a} = fma(vec4f(${x}.z), ${w(2)}, ${a}); ${a} = fma(vec4f(${x}.w), ${w(3)}, ${a});`;
    }
    return `    ${a} = ${a} + ${x}.x * ${w(0)} + ${x}.y * ${w(1)} + ${x}.z * ${w(2)} + ${x}.w * ${w(3)};`;
  };
  const body = U.flatMap((u) => [
    ...C.flatMap((j) =>
      range(4).map(
        (q) => `    let w${u}_${j}_${q} = w[(4u * (k + ${u}u) + ${q}u) * N4 + col${j}];`,
      ),
    ),
    ...R.flatMap((r) => [
      `    let v${u}_${r} = x[x${r} + k + ${u}u];`,
      ...C.map((j) => update(r, j, u)),
    ]),
  ]);
  // row(r): the output row of the invocation's r-th row; in 'lanes' rows are workgroup apart.
  const row = (r: number) =>
    v.mapping === 'lanes' ? `row0 + ${r * v.workgroup}u` : `row0 + ${r}u`;
  const mapping = {
    flat: [
      `  let index = group * ${v.workgroup}u + lid;`,
      '  let cb = index % BLOCKS;',
      `  let row0 = (index / BLOCKS) * ${v.rows}u;`,
      '  if (row0 >= params.rows) { return; }',
    ],
    urows: [
      `  let cb = (group % COL_GROUPS) * ${v.workgroup}u + lid;`,
      `  let row0 = (group / COL_GROUPS) * ${v.rows}u;`,
      `  if (row0 >= params.rows${blocks % v.workgroup ? ' || cb >= BLOCKS' : ''}) { return; }`,
    ],
    lanes: [
      '  let cb = group % BLOCKS;',
      `  let first = (group / BLOCKS) * ${v.rows * v.workgroup}u;`,
      '  if (first >= params.rows) { return; }',
      '  let row0 = first + lid;',
    ],
  }[v.mapping].filter((line) => !(v.noReturn && line.includes('return;')));
  if (v.noReturn && v.mapping === 'urows' && blocks % v.workgroup !== 0)
    throw new Error(`${variantName(v)}: columns past the last block need the early return`);
  const store = R.flatMap((r) =>
    C.map(
      (j) =>
        `  if (${row(r)} < params.rows) { var v = a${r}_${j} + bias[col${j}]; ${c.gelu ? `v = ${GELU_VEC4('v')}; ` : ''}out[(${row(r)}) * N4 + col${j}] = v; }`,
    ),
  );
  return `${bindings(['x', 'w', 'bias', 'out'], ['vec4f', 'vec4f', 'vec4f', 'vec4f'])}
${c.gelu ? ACTIVATION_FUNCTIONS.gelu : ''}
const K4 = ${k4}u;
const N4 = ${n4}u;
const BLOCKS = ${blocks}u;
const COL_GROUPS = ${colGroups}u;

@compute @workgroup_size(${v.workgroup})
fn main(${ENTRY_BUILTINS}) {
  ${FLAT_GROUP}
${mapping.join('\n')}
  let last = params.rows - 1u;
${C.map((j) => `  let col${j} = ${column(j)};`).join('\n')}
${R.map((r) => `  let x${r} = min(${row(r)}, last) * K4;`).join('\n')}
${R.flatMap((r) => C.map((j) => `  var a${r}_${j} = vec4f(0.0);`)).join('\n')}
  for (var k = 0u; k < K4; k = k + ${v.unroll}u) {
${body.join('\n')}
  }
${store.join('\n')}
}
`;
}

function variantKernel(c: MatmulCase, v: Variant): Candidate {
  return {
    label: `variant ${variantName(v)}`,
    kernel: variantName(v),
    wgsl: blockedWgsl(c, v),
    groups: layout(c, v).groups,
  };
}

const FLAT: Variant = {
  mapping: 'flat',
  rows: 4,
  cols: 1,
  workgroup: 64,
  unroll: 1,
  fma: false,
  strided: false,
  noReturn: false,
};
const LANES: Variant = { ...FLAT, mapping: 'lanes', rows: 1, cols: 4 };

/**
 * Variants of the register-blocked kernel; the first one is the compiler's kernel, re-emitted.
 * Tried here and dropped as clearly slower on lavapipe: 2x4 and 16x1 blocks, 'lanes' without the
 * early return, more k unroll.
 */
const VARIANT_LIST: readonly Variant[] = [
  FLAT,
  // register blocks: rows x vec4 columns per invocation
  { ...FLAT, rows: 2, cols: 2 },
  { ...FLAT, rows: 8 },
  { ...FLAT, cols: 2 },
  { ...FLAT, rows: 4, cols: 4 },
  { ...FLAT, rows: 8, cols: 2 },
  { ...FLAT, rows: 8, cols: 4 },
  // workgroup size, k unroll, fma, column order, early return
  { ...FLAT, workgroup: 128 },
  { ...FLAT, workgroup: 256 },
  { ...FLAT, cols: 2, workgroup: 128 },
  { ...FLAT, unroll: 2 },
  { ...FLAT, fma: true },
  { ...FLAT, cols: 2, strided: true },
  { ...FLAT, noReturn: true },
  { ...FLAT, cols: 2, noReturn: true },
  // index mappings that make one operand's index uniform across the workgroup
  { ...FLAT, mapping: 'urows' },
  { ...FLAT, mapping: 'urows', cols: 2 },
  LANES,
  { ...LANES, rows: 2, cols: 2 },
];

interface CaseData {
  readonly c: MatmulCase;
  readonly x: GPUBuffer;
  readonly w: GPUBuffer;
  readonly bias: GPUBuffer;
  readonly out: GPUBuffer;
  readonly reference: Float64Array;
}

/** Seeded inputs: x ~ N(0, 1), W ~ N(0, 0.02) as BERT's init, bias ~ N(0, 0.02). */
function caseInputs(c: MatmulCase, seed: number) {
  const x = normalArray(c.m * c.k, seed);
  const torchWeight = normalArray(c.n * c.k, seed + 1, 0.02); // PyTorch [out, in]
  const bias = normalArray(c.n, seed + 2, 0.02);
  const w = new Float32Array(c.k * c.n); // k-major [in, out], as the runtime uploads it
  for (let o = 0; o < c.n; o++)
    for (let i = 0; i < c.k; i++) w[i * c.n + o] = torchWeight[o * c.k + i]!;
  return { x, w, bias };
}

/** The same matmul and epilogue on the CPU, accumulated in f64. */
function cpuReference(
  c: MatmulCase,
  x: Float32Array,
  w: Float32Array,
  bias: Float32Array,
): Float64Array {
  const out = new Float64Array(c.m * c.n);
  for (let i = 0; i < c.m; i++) {
    const row = out.subarray(i * c.n, (i + 1) * c.n);
    for (let k = 0; k < c.k; k++) {
      const a = x[i * c.k + k]!;
      const base = k * c.n;
      for (let j = 0; j < c.n; j++) row[j]! += a * w[base + j]!;
    }
    for (let j = 0; j < c.n; j++) {
      const v = row[j]! + bias[j]!;
      row[j] = c.gelu ? 0.5 * v * (1 + erf(v / Math.SQRT2)) : v;
    }
  }
  return out;
}

/** ‖out − ref‖ / ‖ref‖ (docs/design.md §4), and the largest absolute difference. */
function compare(out: Float32Array, ref: Float64Array) {
  let diff = 0;
  let norm = 0;
  let maxAbs = 0;
  for (let i = 0; i < ref.length; i++) {
    const d = out[i]! - ref[i]!;
    diff += d * d;
    norm += ref[i]! * ref[i]!;
    if (!(Math.abs(d) <= maxAbs)) maxAbs = Number.isNaN(d) ? NaN : Math.abs(d);
  }
  return { relError: Math.sqrt(diff / norm), maxAbsError: maxAbs };
}

const TOLERANCE = 1e-4;

interface KernelResult {
  readonly case: MatmulCase['id'];
  readonly label: string;
  readonly kernel: string;
  readonly workgroups: number;
  readonly dispatches: number;
  readonly secondsPerMeasurement: number[];
  /** CPU time of this process (lavapipe's workers run in it) per measurement. */
  readonly cpuSecondsPerMeasurement: number[];
  readonly medianSeconds: number;
  readonly msPerDispatch: number;
  /** From the median measurement: the figure asked for. */
  readonly gflops: number;
  /** From the fastest measurement. */
  readonly bestGflops: number;
  /** FLOP per CPU-second of this process: less sensitive to other processes' load. */
  readonly gflopsPerCpuSecond: number;
  readonly relError: number;
  readonly maxAbsError: number;
  readonly correct: boolean;
  readonly error?: string;
}

/** A candidate built and bound, ready to time. */
interface Prepared {
  readonly candidate: Candidate;
  readonly count: number;
  readonly pipeline?: GPUComputePipeline;
  readonly group?: GPUBindGroup;
  readonly error?: string;
}

async function prepare(
  device: GPUDevice,
  params: GPUBuffer,
  data: CaseData,
  candidate: Candidate,
): Promise<Prepared> {
  const count = evaluateSize(candidate.groups, BATCH, SEQ);
  try {
    const pipeline = await withErrorScopes(device, `building ${candidate.kernel}`, () =>
      createPipeline(device, candidate.kernel, candidate.wgsl, 4),
    );
    const group = bindGroup(device, pipeline, [params, data.x, data.w, data.bias, data.out]);
    return { candidate, count, pipeline, group };
  } catch (error) {
    return { candidate, count, error: (error as Error).message };
  }
}

function encode(device: GPUDevice, p: Prepared, times: number): GPUCommandBuffer {
  const encoder = device.createCommandEncoder({ label: p.candidate.kernel });
  const pass = encoder.beginComputePass();
  pass.setPipeline(p.pipeline!);
  pass.setBindGroup(0, p.group!);
  for (let i = 0; i < times; i++) dispatch(pass, p.count);
  pass.end();
  return encoder.finish();
}

/**
 * Times every candidate of one case. Each is first run once on a poisoned output and checked
 * against the reference (so a kernel that writes nothing or the wrong thing cannot pass), then
 * warmed up; the measurements go in rounds over all candidates, in a rotating order, so that
 * other processes' load, which changes over time on a shared machine, hits every candidate alike.
 */
async function timeCandidates(
  device: GPUDevice,
  params: GPUBuffer,
  data: CaseData,
  candidates: readonly Candidate[],
): Promise<KernelResult[]> {
  const { c } = data;
  const queue = device.queue;
  const done = () => gpuWait(() => queue.onSubmittedWorkDone());
  const prepared: Prepared[] = [];
  for (const candidate of candidates) prepared.push(await prepare(device, params, data, candidate));
  const ready = prepared.filter((p) => p.pipeline);
  const checks = new Map<Prepared, ReturnType<typeof compare>>();
  const dispatches = new Map<Prepared, number>();
  const poison = new Float32Array(c.m * c.n).fill(NaN);
  await withErrorScopes(device, `checking ${c.id} kernels`, async () => {
    for (const p of ready) {
      queue.writeBuffer(data.out, 0, poison.buffer, 0, poison.byteLength);
      queue.submit([encode(device, p, 1)]);
      checks.set(p, compare(await readBack(device, data.out, c.m * c.n), data.reference));
      const single: number[] = [];
      for (let i = 0; i < WARMUPS; i++) {
        const start = performance.now();
        queue.submit([encode(device, p, 1)]);
        await done();
        single.push((performance.now() - start) / 1000);
      }
      // Slow kernels get fewer dispatches per measurement (GFLOP/s counts the ones made).
      const fit = Math.round(TARGET_SECONDS / Math.max(median(single), 1e-6));
      dispatches.set(p, Math.max(MIN_DISPATCHES, Math.min(DISPATCHES, fit)));
    }
  });
  const seconds = new Map<Prepared, number[]>(ready.map((p) => [p, []]));
  const cpuSeconds = new Map<Prepared, number[]>(ready.map((p) => [p, []]));
  await withErrorScopes(device, `timing ${c.id} kernels`, async () => {
    for (let round = 0; round < REPS; round++) {
      for (let j = 0; j < ready.length; j++) {
        const p = ready[(j + round) % ready.length]!;
        const commands = encode(device, p, dispatches.get(p)!);
        const cpuStart = process.cpuUsage();
        const start = performance.now();
        queue.submit([commands]);
        await done();
        seconds.get(p)!.push((performance.now() - start) / 1000);
        const used = process.cpuUsage(cpuStart);
        cpuSeconds.get(p)!.push((used.user + used.system) / 1e6);
      }
      console.error(`  ${c.id}: round ${round + 1} of ${REPS}`);
    }
  });
  return prepared.map((p) => {
    const n = dispatches.get(p) ?? 0;
    const flops = 2 * c.m * c.n * c.k * n;
    const base = {
      case: c.id,
      label: p.candidate.label,
      kernel: p.candidate.kernel,
      workgroups: p.count,
      dispatches: n,
    };
    if (!p.pipeline) {
      return {
        ...base,
        secondsPerMeasurement: [],
        cpuSecondsPerMeasurement: [],
        medianSeconds: NaN,
        msPerDispatch: NaN,
        gflops: NaN,
        bestGflops: NaN,
        gflopsPerCpuSecond: NaN,
        relError: NaN,
        maxAbsError: NaN,
        correct: false,
        error: p.error,
      };
    }
    const wall = seconds.get(p)!;
    const cpu = cpuSeconds.get(p)!;
    const medianSeconds = median(wall);
    const { relError, maxAbsError } = checks.get(p)!;
    return {
      ...base,
      secondsPerMeasurement: wall,
      cpuSecondsPerMeasurement: cpu,
      medianSeconds,
      msPerDispatch: (medianSeconds / n) * 1000,
      gflops: flops / medianSeconds / 1e9,
      bestGflops: flops / Math.min(...wall) / 1e9,
      gflopsPerCpuSecond: flops / median(cpu) / 1e9,
      relError,
      maxAbsError,
      correct: relError <= TOLERANCE,
    };
  });
}

function kernelRows(results: readonly KernelResult[]): string[][] {
  return results.map((r) => [
    r.case,
    r.label,
    r.kernel,
    String(r.workgroups),
    String(r.dispatches),
    r.error ? 'build failed' : fixed(r.msPerDispatch, 2),
    r.error ? '-' : fixed(r.gflops, 2),
    r.error ? '-' : fixed(r.bestGflops, 2),
    r.error ? '-' : fixed(r.gflopsPerCpuSecond, 2),
    r.error ? '-' : r.relError.toExponential(2),
    r.error ? 'ERROR' : r.correct ? 'ok' : 'WRONG',
  ]);
}

const KERNEL_HEADERS = [
  'case',
  'kernel',
  'name',
  'groups',
  'disp',
  'ms/dispatch',
  'GFLOP/s',
  'best',
  'GFLOP/cpu-s',
  'rel.err',
  'check',
];

async function benchMatmuls(device: GPUDevice) {
  const params = paramsBuffer(device, BATCH, SEQ);
  const main: KernelResult[] = [];
  const variants: KernelResult[] = [];
  const wgslOf = new Map<string, string>();
  for (const [i, c] of CASES.entries()) {
    const inputs = caseInputs(c, 1000 + 10 * i);
    const started = performance.now();
    const reference = cpuReference(c, inputs.x, inputs.w, inputs.bias);
    console.error(
      `  ${c.id}: CPU f64 reference in ${((performance.now() - started) / 1000).toFixed(1)} s`,
    );
    const data: CaseData = {
      c,
      x: storageBuffer(device, inputs.x, 'x'),
      w: storageBuffer(device, inputs.w, 'w'),
      bias: storageBuffer(device, inputs.bias, 'bias'),
      out: storageBuffer(device, new Float32Array(c.m * c.n), 'out'),
      reference,
    };
    const candidates = [compilerKernel('software', c), compilerKernel('gpu', c), naiveKernel(c)];
    const mine = VARIANTS ? VARIANT_LIST.filter((v) => MATCH.test(variantName(v))) : [];
    for (const v of mine) {
      const candidate = variantKernel(c, v);
      wgslOf.set(`${c.id}/${candidate.kernel}`, candidate.wgsl);
      candidates.push(candidate);
    }
    const results = await timeCandidates(device, params, data, candidates);
    main.push(...results.slice(0, 3));
    variants.push(...results.slice(3));
    for (const buffer of [data.x, data.w, data.bias, data.out]) buffer.destroy();
  }
  params.destroy();

  // Rank variants by the time of both FFN matmuls together (one layer's FFN).
  const ranking = VARIANT_LIST.filter((v) => MATCH.test(variantName(v)))
    .map((v) => {
      const name = variantName(v);
      const mine = variants.filter((r) => r.kernel === name);
      const ok = mine.length === CASES.length && mine.every((r) => r.correct);
      const seconds = mine.reduce((s, r) => s + r.medianSeconds / r.dispatches, 0);
      const cpu = mine.reduce((s, r) => s + median(r.cpuSecondsPerMeasurement) / r.dispatches, 0);
      const flops = CASES.reduce((s, c) => s + 2 * c.m * c.n * c.k, 0);
      return {
        variant: name,
        ok,
        msPerFfn: seconds * 1000,
        gflops: flops / seconds / 1e9,
        gflopsPerCpuSecond: flops / cpu / 1e9,
      };
    })
    .sort((a, b) => Number(b.ok) - Number(a.ok) || a.msPerFfn - b.msPerFfn);
  const best = ranking.find((r) => r.ok);
  return {
    main,
    variants,
    ranking,
    best: best
      ? {
          ...best,
          wgsl: Object.fromEntries(
            CASES.map((c) => [c.id, wgslOf.get(`${c.id}/${best.variant}`) ?? '']),
          ),
        }
      : undefined,
  };
}

// ---------------------------------------------------------------------------------------------
// 2. Dispatch plans

const EXAMPLES = [
  'bert-base-pfeiffer.adapt',
  'bert-base-houlsby.adapt',
  'bert-base-parallel.adapt',
  'bert-base-fusion.adapt',
  'gpt2-small-adapters.adapt',
];

interface PlanResult {
  readonly example: string;
  readonly fused: boolean;
  readonly layers: number;
  readonly dispatches: number;
  readonly dispatchesPerLayer: number;
  readonly kernels: number;
  readonly buffers: number;
  /** Planned activation buffers at B=1, T=128: Σ 4·(perToken·B·T + perSequence·B). */
  readonly plannedBytes: number;
  /** Every value (graph inputs and computed nodes) in a buffer of its own. */
  readonly noReuseBytes: number;
  readonly error?: string;
}

function valueBytes(program: Program, batch: number, seq: number): number {
  let elements = 0;
  for (const node of program.nodes) {
    if (node.op === 'weight') continue;
    elements += node.shape.reduce<number>(
      (n, d) => n * (d === 'B' ? batch : d === 'T' ? seq : d),
      1,
    );
  }
  return 4 * elements;
}

function benchPlans(): PlanResult[] {
  const results: PlanResult[] = [];
  for (const example of EXAMPLES) {
    const file = join(ROOT, 'examples', example);
    const source = readFileSync(file, 'utf8');
    for (const fuse of [true, false]) {
      const { program, diagnostics } = compile(source, { fileName: example, fuse });
      if (!program?.gpu) {
        results.push({
          example,
          fused: fuse,
          layers: 0,
          dispatches: 0,
          dispatchesPerLayer: NaN,
          kernels: 0,
          buffers: 0,
          plannedBytes: NaN,
          noReuseBytes: NaN,
          error: diagnostics.map((d) => d.message).join('; ') || 'no GPU plan',
        });
        continue;
      }
      const plan = program.gpu;
      const layers = program.model.layers;
      results.push({
        example,
        fused: fuse,
        layers,
        dispatches: plan.dispatches.length,
        dispatchesPerLayer: plan.dispatches.length / layers,
        kernels: plan.kernels.length,
        buffers: plan.buffers.length,
        plannedBytes: plan.buffers.reduce((s, size) => s + 4 * evaluateSize(size, BATCH, SEQ), 0),
        noReuseBytes: valueBytes(program, BATCH, SEQ),
      });
    }
  }
  return results;
}

const mib = (bytes: number) => fixed(bytes / 1048576, 2);

// ---------------------------------------------------------------------------------------------
// 3. Gentle waiting: the runtime's run loop, replicated, with either way of waiting

/** The runtime's GpuModel.run, minimally: one submit per forward pass, then map the output. */
class ReplicaModel {
  private constructor(
    private readonly device: GPUDevice,
    private readonly program: Program,
    private readonly pipelines: GPUComputePipeline[],
    private readonly groups: GPUBindGroup[],
    private readonly activations: GPUBuffer[],
    private readonly params: GPUBuffer,
    private readonly staging: GPUBuffer,
    private readonly owned: GPUBuffer[],
  ) {}

  static async create(
    device: GPUDevice,
    program: Program,
    weights: ReadonlyMap<string, Float32Array>,
  ): Promise<ReplicaModel> {
    const plan = program.gpu!;
    const owned: GPUBuffer[] = [];
    const uploads = plan.uploads.map((upload, i) => {
      const parts = upload.parts.map((part) => {
        const data = weights.get(part.weight)!;
        if (!part.transpose) return data;
        const spec = program.weights.find((w) => w.name === part.weight)!;
        const [rows, cols] = spec.shape as [number, number];
        const out = new Float32Array(data.length);
        for (let r = 0; r < rows; r++)
          for (let col = 0; col < cols; col++) out[col * rows + r] = data[r * cols + col]!;
        return out;
      });
      const packed = new Float32Array(parts.reduce((n, p) => n + p.length, 0));
      let offset = 0;
      for (const part of parts) {
        packed.set(part, offset);
        offset += part.length;
      }
      const buffer = storageBuffer(device, packed, `weights ${i}`);
      owned.push(buffer);
      return buffer;
    });
    const activations = plan.buffers.map((size, i) => {
      const buffer = storageBuffer(
        device,
        new Float32Array(roundUp16(4 * evaluateSize(size, BATCH, SEQ)) / 4),
        `activations ${i}`,
      );
      owned.push(buffer);
      return buffer;
    });
    const params = paramsBuffer(device, BATCH, SEQ);
    const outBytes = roundUp16(BATCH * SEQ * program.model.hidden * 4);
    const staging = device.createBuffer({
      size: outBytes,
      usage: BufferUsage.MAP_READ | BufferUsage.COPY_DST,
    });
    owned.push(params, staging);
    const pipelines = await Promise.all(
      plan.kernels.map((k) => createPipeline(device, k.name, k.wgsl, k.storageBindings)),
    );
    const groups = plan.dispatches.map((d) =>
      bindGroup(device, pipelines[d.kernel]!, [
        params,
        ...d.args.map((a) => (a.kind === 'buffer' ? activations[a.buffer]! : uploads[a.upload]!)),
      ]),
    );
    return new ReplicaModel(
      device,
      program,
      pipelines,
      groups,
      activations,
      params,
      staging,
      owned,
    );
  }

  async run(hidden: Float32Array, gentle: boolean): Promise<Float32Array> {
    const plan = this.program.gpu!;
    const prepared = prepareInputs(this.program, {
      hidden_states: { data: hidden, shape: [BATCH, SEQ, this.program.model.hidden] },
    });
    const queue = this.device.queue;
    for (const input of plan.inputs) {
      const value = prepared.values.get(input.name)!;
      queue.writeBuffer(
        this.activations[input.buffer]!,
        0,
        value.buffer,
        value.byteOffset,
        value.byteLength,
      );
    }
    const params = new Uint32Array([BATCH, SEQ, BATCH * SEQ, 0]);
    queue.writeBuffer(this.params, 0, params.buffer, 0, 16);
    const encoder = this.device.createCommandEncoder();
    const pass = encoder.beginComputePass();
    plan.dispatches.forEach((d, i) => {
      pass.setPipeline(this.pipelines[d.kernel]!);
      pass.setBindGroup(0, this.groups[i]!);
      dispatch(pass, evaluateSize(d.groups, BATCH, SEQ));
    });
    pass.end();
    const bytes = BATCH * SEQ * this.program.model.hidden * 4;
    const output = this.activations[plan.outputs[0]!.buffer]!;
    encoder.copyBufferToBuffer(output, 0, this.staging, 0, roundUp16(bytes));
    queue.submit([encoder.finish()]);
    const map = () => this.staging.mapAsync(MapMode.READ, 0, roundUp16(bytes));
    if (gentle) await gpuWait(map);
    else await map(); // Dawn re-arms setImmediate while this is pending: a spinning core
    const result = new Float32Array(
      this.staging.getMappedRange(0, roundUp16(bytes)).slice(0, bytes),
    );
    this.staging.unmap();
    return result;
  }

  dispose(): void {
    for (const buffer of this.owned) buffer.destroy();
  }
}

interface WaitResult {
  readonly mode: string;
  readonly passes: number;
  readonly msPerPass: number[];
  readonly medianMs: number;
  readonly meanMs: number;
  readonly totalMs: number;
  /** Process CPU time (main thread and lavapipe's workers) per pass. */
  readonly cpuMsPerPass: number;
  readonly maxAbsDiffVsRuntime: number;
}

async function benchWaiting(device: GPUDevice) {
  const source = readFileSync(join(ROOT, 'examples', 'bert-base-pfeiffer.adapt'), 'utf8').replace(
    /layers\s+12\b/,
    'layers 2',
  );
  const { program, diagnostics } = compile(source, { fileName: 'bert-base-pfeiffer.adapt' });
  if (!program?.gpu) throw new Error(diagnostics.map((d) => d.message).join('; '));
  const tensors = initWeights(program, 7);
  const weights = new Map([...tensors].map(([name, t]) => [name, t.data as Float32Array]));
  const hidden = normalArray(BATCH * SEQ * program.model.hidden, 42);

  const runtime = await Runtime.create({ backend: 'webgpu' });
  const model = await runtime.load(program, tensors);
  const replica = await ReplicaModel.create(device, program, weights);

  const modes: { name: string; run: () => Promise<Float32Array> }[] = [
    {
      name: 'runtime (model.run, gpuWait)',
      run: async () =>
        (
          await model.run({
            hidden_states: { data: hidden, shape: [BATCH, SEQ, program.model.hidden] },
          })
        ).hidden_states.data,
    },
    { name: 'replica + gpuWait', run: () => replica.run(hidden, true) },
    { name: 'replica + plain await', run: () => replica.run(hidden, false) },
  ];
  const reference = await modes[0]!.run();
  const diffs: number[] = [];
  for (const m of modes) {
    const out = await m.run();
    let max = 0;
    for (let i = 0; i < out.length; i++) max = Math.max(max, Math.abs(out[i]! - reference[i]!));
    diffs.push(max);
  }
  for (let i = 0; i < 2; i++) for (const m of modes) await m.run(); // warm-up
  const times = modes.map(() => [] as number[]);
  const cpu = modes.map(() => 0);
  // Interleaved, so that drift in the machine's load affects every mode alike.
  for (let p = 0; p < PASSES; p++) {
    for (const [i, m] of modes.entries()) {
      const cpuStart = process.cpuUsage();
      const start = performance.now();
      await m.run();
      times[i]!.push(performance.now() - start);
      const used = process.cpuUsage(cpuStart);
      cpu[i]! += (used.user + used.system) / 1000;
    }
  }
  replica.dispose();
  model.dispose();
  runtime.dispose();
  const results: WaitResult[] = modes.map((m, i) => ({
    mode: m.name,
    passes: PASSES,
    msPerPass: times[i]!,
    medianMs: median(times[i]!),
    meanMs: mean(times[i]!),
    totalMs: times[i]!.reduce((a, b) => a + b, 0),
    cpuMsPerPass: cpu[i]! / PASSES,
    maxAbsDiffVsRuntime: diffs[i]!,
  }));
  return {
    example: 'bert-base-pfeiffer.adapt with layers 2',
    dispatchesPerPass: program.gpu.dispatches.length,
    results,
  };
}

// ---------------------------------------------------------------------------------------------

/** The report as the repository's Prettier would format it, so `format:check` stays clean. */
async function formatJson(file: string, report: unknown): Promise<string> {
  const text = `${JSON.stringify(report, null, 2)}\n`;
  try {
    const prettier = await import('prettier');
    const config = (await prettier.resolveConfig(file)) ?? {};
    return await prettier.format(text, { ...config, parser: 'json' });
  } catch {
    return text;
  }
}

async function main(): Promise<void> {
  const gpu = await GpuDevice.create();
  const device = gpu.device;
  const adapter = gpu.adapter;
  console.log(
    `adapter: ${adapter.description || adapter.architecture || '?'} (profile ${adapter.profile}); node ${process.version}`,
  );
  console.log(
    `B=${BATCH} T=${SEQ}; up to ${DISPATCHES} dispatches per measurement (fewer where ${DISPATCHES} would take over ${TARGET_SECONDS} s), median of ${REPS} interleaved rounds, after ${WARMUPS} warm-up submissions\n`,
  );
  const load = () => loadavg().map((x) => Number(x.toFixed(2)));
  console.log(`load average at start: ${load().join(', ')} (other processes skew the figures)`);
  const report: Record<string, unknown> = {
    date: new Date().toISOString(),
    node: process.version,
    adapter,
    loadAverageAtStart: load(),
    options: {
      batch: BATCH,
      seq: SEQ,
      dispatches: DISPATCHES,
      targetSeconds: TARGET_SECONDS,
      reps: REPS,
      warmups: WARMUPS,
      passes: PASSES,
    },
  };

  if (SECTIONS.has('matmul')) {
    console.error('1. matmul kernels');
    const matmul = await benchMatmuls(device);
    report.matmul = matmul;
    console.log('1. BERT-base FFN matmuls (M=128)\n');
    console.log(table(KERNEL_HEADERS, kernelRows(matmul.main)));
    if (matmul.variants.length > 0) {
      console.log('\n   register-blocked variants (software profile)\n');
      console.log(table(KERNEL_HEADERS, kernelRows(matmul.variants)));
      console.log('\n   variants ranked by the time of both FFN matmuls (one layer)\n');
      console.log(
        table(
          ['variant', 'ms/layer FFN', 'GFLOP/s', 'GFLOP/cpu-s', 'check'],
          matmul.ranking.map((r) => [
            r.variant,
            fixed(r.msPerFfn, 2),
            fixed(r.gflops, 2),
            fixed(r.gflopsPerCpuSecond, 2),
            r.ok ? 'ok' : 'WRONG',
          ]),
        ),
      );
      if (matmul.best) console.log(`\n   fastest correct variant: ${matmul.best.variant}`);
    }
    console.log('');
  }

  if (SECTIONS.has('plan')) {
    const plans = benchPlans();
    report.plans = plans;
    console.log(`2. dispatch plans (activation bytes at B=${BATCH}, T=${SEQ})\n`);
    console.log(
      table(
        [
          'example',
          'fuse',
          'layers',
          'dispatches',
          'per layer',
          'kernels',
          'buffers',
          'planned MiB',
          'no reuse MiB',
          'saved',
        ],
        plans.map((p) =>
          p.error
            ? [p.example, p.fused ? 'on' : 'off', '-', '-', '-', '-', '-', '-', '-', p.error]
            : [
                p.example,
                p.fused ? 'on' : 'off',
                String(p.layers),
                String(p.dispatches),
                fixed(p.dispatchesPerLayer, 2),
                String(p.kernels),
                String(p.buffers),
                mib(p.plannedBytes),
                mib(p.noReuseBytes),
                `${fixed(100 * (1 - p.plannedBytes / p.noReuseBytes), 1)}%`,
              ],
        ),
      ),
    );
    console.log('');
  }

  if (SECTIONS.has('wait')) {
    console.error('3. waiting');
    const waiting = await benchWaiting(device);
    report.waiting = waiting;
    console.log(
      `3. waiting: ${PASSES} forward passes of ${waiting.example} (${waiting.dispatchesPerPass} dispatches each), interleaved\n`,
    );
    console.log(
      table(
        ['mode', 'median ms', 'mean ms', 'total ms', 'CPU ms/pass', 'max|diff| vs runtime'],
        waiting.results.map((r) => [
          r.mode,
          fixed(r.medianMs, 1),
          fixed(r.meanMs, 1),
          fixed(r.totalMs, 0),
          fixed(r.cpuMsPerPass, 1),
          r.maxAbsDiffVsRuntime.toExponential(1),
        ]),
      ),
    );
    const [, gentle, plain] = waiting.results;
    if (gentle && plain)
      console.log(
        `\n   plain await / gpuWait (median): ${fixed(plain.medianMs / gentle.medianMs, 2)}x`,
      );
    console.log('');
  }

  report.loadAverageAtEnd = load();
  console.log(`load average at end: ${load().join(', ')}`);
  const outFile = options.out ?? join(ROOT, 'bench', 'results', 'kernels.json');
  mkdirSync(dirname(outFile), { recursive: true });
  writeFileSync(outFile, await formatJson(outFile, report));
  console.log(`wrote ${relative(process.cwd(), outFile) || outFile}`);
  gpu.dispose();
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error instanceof Error ? (error.stack ?? error.message) : String(error));
    process.exit(1);
  },
);
