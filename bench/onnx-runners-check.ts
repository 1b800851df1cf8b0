/**
 * Self-check of bench/onnx-runners.ts: exports small graphs to ONNX with seeded weights, runs
 * them under ONNX Runtime on the CPU (onnxruntime-node when installed, else onnxruntime-web's
 * wasm) and onnxruntime-web (WebGPU over Dawn), and holds both
 * outputs against adaptc's CPU reference. `--bert` adds BERT-base shapes (2 layers, a Pfeiffer
 * adapter r = 64) at B=1, T=128.
 *
 *   npx tsc -p bench/tsconfig.json && node dist/bench/onnx-runners-check.js [--bert]
 */
import { parseArgs } from 'node:util';
import { compile } from '../src/compiler/index.js';
import { exportOnnx } from '../src/compiler/onnx/export.js';
import { relativeError } from '../src/runtime/compare.js';
import { normalArray } from '../src/runtime/random.js';
import { Runtime } from '../src/runtime/runtime.js';
import { bindWeights, initWeights } from '../src/runtime/weights.js';
import { timeOrtCpu, timeOrtWebGpu, type OnnxFeeds, type OnnxTiming } from './onnx-runners.js';

const { values: options } = parseArgs({
  options: {
    bert: { type: 'boolean', default: false },
    warmup: { type: 'string', default: '3' },
    iters: { type: 'string', default: '10' },
  },
});
const WARMUP = Number(options.warmup);
const ITERS = Number(options.iters);
const TOLERANCE = 1e-4;
const SEED = 7;

const SMALL = `
model small {
  hidden 64
  heads 4
  ffn 256
  layers 2
  activation gelu
  norm post
  eps 1e-12
}

adapter a1 { bottleneck 16 at ffn }
adapter a2 { bottleneck 16 activation gelu at ffn }
adapter a3 { bottleneck 8 at ffn }

fusion f { adapters a1, a2, a3 }

graph default = f
graph single = a1
graph routed = batch(a1, a2, a3)
`;

const BERT = `
model bert-base {
  hidden 768
  heads 12
  ffn 3072
  layers 2
  activation gelu
  norm post
  eps 1e-12
}

adapter task { bottleneck 64 at ffn }

graph default = task
`;

interface Case {
  readonly name: string;
  readonly source: string;
  readonly graph: string;
  readonly batch: number;
  readonly seq: number;
}

const CASES: Case[] = [
  { name: 'small adapter at ffn', source: SMALL, graph: 'single', batch: 1, seq: 16 },
  { name: 'small fusion of 3', source: SMALL, graph: 'default', batch: 1, seq: 16 },
  { name: 'small batch(a1,a2,a3)', source: SMALL, graph: 'routed', batch: 3, seq: 16 },
  ...(options.bert
    ? [{ name: 'BERT-base 2 layers pfeiffer', source: BERT, graph: 'default', batch: 1, seq: 128 }]
    : []),
];

const ms = (x: number) => x.toFixed(2);
const show = (t: OnnxTiming) =>
  `${t.provider}: median ${ms(t.median)} ms (min ${ms(t.min)}, max ${ms(t.max)}, iqr ${ms(t.iqr)}; n=${t.samples.length}), session ${ms(t.sessionMs)} ms`;

async function runCase(c: Case, rt: Runtime): Promise<boolean> {
  const result = compile(c.source, { graph: c.graph, fuse: false });
  if (!result.program || !result.ir) {
    throw new Error(`${c.name}: ${result.diagnostics.map((d) => d.message).join('; ')}`);
  }
  const program = result.program;
  const weights = initWeights(program, SEED);
  const bound = bindWeights(program, weights);
  const bytes = exportOnnx(result.ir, bound.tensors, { fileName: '<check>', graph: c.graph });

  const hidden = program.model.hidden;
  const { batch, seq } = c;
  const x = normalArray(batch * seq * hidden, 11);
  const mask = new Int32Array(batch * seq).fill(1);
  // Pad the tail of the last sequence when there is more than one, to exercise the mask.
  if (batch > 1) mask.fill(0, batch * seq - 3);
  const routed = program.inputs.some((i) => i.name === 'adapter_index');
  const index = routed ? Int32Array.from({ length: batch }, (_, b) => b % 3) : undefined;
  const feeds: OnnxFeeds = {
    hidden_states: x,
    attention_mask: mask,
    ...(index ? { adapter_index: index } : {}),
    batch,
    seq,
    hidden,
  };

  const model = await rt.load(program, weights);
  const reference = (
    await model.run({
      hidden_states: { data: x, shape: [batch, seq, hidden] },
      attention_mask: { data: mask, shape: [batch, seq] },
      ...(index ? { adapter_index: { data: index, shape: [batch] } } : {}),
    })
  ).hidden_states.data;
  model.dispose();

  console.log(
    `\n${c.name} (graph '${c.graph}', B=${batch}, T=${seq}, d=${hidden}, ${(bytes.length / 2 ** 20).toFixed(1)} MiB ONNX)`,
  );
  let ok = true;
  for (const runner of [timeOrtCpu, timeOrtWebGpu]) {
    const t = await runner(bytes, feeds, WARMUP, ITERS);
    const error = relativeError(t.output, reference);
    const pass = error <= TOLERANCE;
    ok &&= pass;
    console.log(`  ${show(t)}; rel err ${error.toExponential(2)} ${pass ? 'ok' : 'FAIL'}`);
  }
  return ok;
}

const rt = await Runtime.create({ backend: 'cpu' });
let allOk = true;
for (const c of CASES) allOk = (await runCase(c, rt)) && allOk;
rt.dispose();
console.log(allOk ? '\nall outputs within 1e-4 of the CPU reference' : '\nSOME OUTPUTS DIFFER');
process.exit(allOk ? 0 : 1);
