/**
 * Compile-time scaling: a script, not a test (nothing here asserts on time).
 *
 * Compiles a BERT-shaped model at small width (hidden 32, 4 heads, ffn 64) with N layers, two
 * sequential adapters at attn and ffn, a third at ffn with its N layers written as a range, a
 * parallel one at ffn, and an AdapterFusion over three adapters at every ffn site, so that every
 * pass has work. Prints the milliseconds of each stage
 * (check, lower, each pass, plan, emit, and the tools that read a compiled graph: the verifier,
 * the IR and plan printers, the picture, the DOT graph and the ONNX model) per N, and whether the
 * time per layer of the stages after checking stays flat as N grows. Times are CPU time of this
 * process (user + system), which other work on a shared machine disturbs less than wall time.
 *
 * Build and run from the repository root:
 *   npx tsc -p bench/tsconfig.json && node dist/bench/compile-scaling.js [--layers 250,500,1000]
 */
import { parseArgs } from 'node:util';
import { planGpu } from '../src/compiler/codegen/plan.js';
import { printPlan } from '../src/compiler/codegen/print-plan.js';
import { emitProgram } from '../src/compiler/emit-program.js';
import { checkSource } from '../src/compiler/frontend.js';
import { graphToDot } from '../src/compiler/ir/dot.js';
import { printGraph } from '../src/compiler/ir/print.js';
import type { IrGraph } from '../src/compiler/ir/types.js';
import { verifyGraph } from '../src/compiler/ir/verify.js';
import { lowerModel } from '../src/compiler/lower/lower.js';
import { buildOnnxModel } from '../src/compiler/onnx/export.js';
import { PASSES } from '../src/compiler/passes/pipeline.js';
import { graphPicture } from '../src/compiler/picture.js';
import { scalingSpec } from './scaling-spec.js';

const { values: options } = parseArgs({
  options: {
    layers: { type: 'string', default: '250,500,1000,2000,4000' },
    /** Time per layer may grow by this factor from the smallest N to the largest and count as flat. */
    tolerance: { type: 'string', default: '1.5' },
  },
});

const LAYER_COUNTS = options.layers.split(',').map((text) => {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1) {
    console.error(`--layers takes positive integers separated by commas, got '${text}'`);
    process.exit(2);
  }
  return n;
});
const TOLERANCE = Number(options.tolerance);
if (!(TOLERANCE >= 1)) {
  console.error(`--tolerance must be a number of at least 1, got '${options.tolerance}'`);
  process.exit(2);
}

/** Zero tensors for the ONNX export, one shared array per size: the export only reads them. */
function zeroWeights(graph: IrGraph): Map<string, Float32Array> {
  const bySize = new Map<number, Float32Array>();
  const weights = new Map<string, Float32Array>();
  for (const weight of graph.weights) {
    const size = weight.shape.reduce((n, d) => n * d, 1);
    let data = bySize.get(size);
    if (!data) bySize.set(size, (data = new Float32Array(size)));
    weights.set(weight.name, data);
  }
  return weights;
}

/** Compile stages after checking: the ones whose time per layer must stay flat. */
const COMPILE_STAGES = ['lower', ...PASSES.map((p) => p.name), 'plan', 'emit'];
const TOOL_STAGES = ['verify', 'print ir', 'print plan', 'picture', 'dot', 'onnx'];

/** CPU milliseconds this process has used. */
function cpuMs(): number {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
}

function measure(layers: number): Map<string, number> {
  const times = new Map<string, number>();
  let start = cpuMs();
  const lap = <T>(stage: string, value: T): T => {
    const end = cpuMs();
    times.set(stage, end - start);
    start = end;
    return value;
  };
  const front = lap('check', checkSource(scalingSpec(layers), 'scaling.adapt'));
  const model = front.model;
  if (!model) throw new Error(front.diagnostics.map((d) => d.message).join('\n'));
  const ir = lap('lower', lowerModel(model, 'default'));
  let graph = ir;
  for (const pass of PASSES) graph = lap(pass.name, pass.run(graph));
  const gpu = lap('plan', planGpu(graph, 'software', true));
  lap('emit', emitProgram(model, 'default', graph, { gpu, weights: ir.weights }));
  const problems = lap('verify', verifyGraph(graph));
  if (problems.length > 0) throw new Error(`invalid graph: ${problems[0]}`);
  lap('print ir', printGraph(graph));
  lap('print plan', printPlan(gpu));
  lap('picture', graphPicture(model, 'default', graph));
  lap('dot', graphToDot(graph));
  const weights = zeroWeights(ir);
  start = cpuMs();
  lap('onnx', buildOnnxModel(ir, weights, { fileName: 'scaling.adapt', graph: 'default' }));
  return times;
}

function table(headers: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: readonly string[]) =>
    cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  return [line(headers), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

const sum = (times: ReadonlyMap<string, number>, stages: readonly string[]) =>
  stages.reduce((total, stage) => total + times.get(stage)!, 0);

// One small compile first, so that the first N does not also pay for warming up the JIT.
measure(Math.min(...LAYER_COUNTS));

const results = LAYER_COUNTS.map((layers) => ({ layers, times: measure(layers) }));
const stages = ['check', ...COMPILE_STAGES, ...TOOL_STAGES];
const perLayer = (r: (typeof results)[number], names: readonly string[]) =>
  (1000 * sum(r.times, names)) / r.layers;
console.log(
  table(
    ['stage (CPU ms)', ...results.map((r) => `N=${r.layers}`)],
    [
      ...stages.map((stage) => [stage, ...results.map((r) => r.times.get(stage)!.toFixed(1))]),
      [
        'compile (check..emit)',
        ...results.map((r) => sum(r.times, ['check', ...COMPILE_STAGES]).toFixed(1)),
      ],
      ['µs per layer, check', ...results.map((r) => perLayer(r, ['check']).toFixed(0))],
      ['µs per layer, lower..emit', ...results.map((r) => perLayer(r, COMPILE_STAGES).toFixed(0))],
      ['µs per layer, tools', ...results.map((r) => perLayer(r, TOOL_STAGES).toFixed(0))],
    ],
  ),
);

/** Below this a stage's time per layer is mostly noise (timer, GC), not growth. */
const NOISE_MS = 100;
const first = results[0]!;
const last = results[results.length - 1]!;
for (const [label, names] of [
  ['lower..emit', COMPILE_STAGES],
  ['tools', TOOL_STAGES],
  ['check', ['check']],
] as const) {
  const growth = perLayer(last, names) / perLayer(first, names);
  const small = sum(last.times, names) < NOISE_MS;
  const verdict = growth <= TOLERANCE || small ? 'met' : 'missed';
  const detail = small ? `, under ${NOISE_MS} ms at N=${last.layers}` : '';
  console.log(
    `time per layer, ${label}: ×${growth.toFixed(2)} from N=${first.layers} to N=${last.layers}${detail} (flat within ×${TOLERANCE}): ${verdict}`,
  );
}
