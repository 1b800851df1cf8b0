/**
 * `--backend onnx` against ONNX Runtime on the plain export of the same graph: for each bench
 * spec, the graph exported as lowered and after adaptc's graph-level rewrites (the fusion
 * algebra), the same seeded weights and input, both loaded through the runtime's onnx backend
 * (one ONNX Runtime, one session code path, the output read back), timed round by round in
 * alternation. Prints the ratio per graph and whether it meets its target.
 *
 *   tsc -p bench/tsconfig.json && node dist/bench/onnx-backend.js [--iters N] [--seq T]
 */
import { readFileSync } from 'node:fs';
import { compile } from '../src/compiler/index.js';
import { exportOnnx } from '../src/compiler/onnx/index.js';
import { ortProvider } from '../src/runtime/onnx/ort.js';
import { normalArray } from '../src/runtime/random.js';
import { Runtime, type LoadedModel } from '../src/runtime/runtime.js';
import { bindWeights, initWeights } from '../src/runtime/weights.js';

/** Speed-up of the rewritten graph over the plain export that each graph must reach. */
const TARGETS: readonly { readonly spec: string; readonly target: number }[] = [
  { spec: 'pfeiffer', target: 0.9 },
  { spec: 'houlsby', target: 0.9 },
  { spec: 'fusion3', target: 1.3 },
  { spec: 'fusion8', target: 1.6 },
];

function flag(name: string, fallback: number): number {
  const at = process.argv.indexOf(`--${name}`);
  const value = at >= 0 ? Number(process.argv[at + 1]) : fallback;
  if (!Number.isSafeInteger(value) || value < 1)
    throw new Error(`--${name} must be a positive integer`);
  return value;
}

const ITERS = flag('iters', 5);
const SEQ = flag('seq', 128);
const BATCH = 1;
const WARMUP = 2;
const specs = new URL('specs/', new URL('../../bench/', import.meta.url));

const median = (samples: readonly number[]) => {
  const sorted = [...samples].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
};

interface Row {
  readonly spec: string;
  readonly plainMs: number;
  readonly rewrittenMs: number;
  readonly target: number;
}

async function measure(runtime: Runtime, spec: string, target: number): Promise<Row> {
  const fileName = `bench/specs/${spec}.adapt`;
  const source = readFileSync(new URL(`${spec}.adapt`, specs), 'utf8');
  const { ir, program } = compile(source, { fileName, fuse: false, gpu: false });
  const weights = initWeights(program!, 0);
  const bound = bindWeights(program!, weights).tensors;
  const load = (optimize: boolean) =>
    runtime.load(program!, weights, {
      onnx: exportOnnx(ir!, bound, { fileName, graph: 'default', optimize }),
    });
  const models: LoadedModel[] = [await load(false), await load(true)];
  const d = program!.model.hidden;
  const inputs = {
    hidden_states: { data: normalArray(BATCH * SEQ * d, 1), shape: [BATCH, SEQ, d] },
  };
  const samples: number[][] = [[], []];
  try {
    for (let round = 0; round < WARMUP + ITERS; round++) {
      for (const [i, model] of models.entries()) {
        const start = performance.now();
        await model.run(inputs);
        if (round >= WARMUP) samples[i]!.push(performance.now() - start);
      }
    }
  } finally {
    for (const model of models) model.dispose();
  }
  return { spec, plainMs: median(samples[0]!), rewrittenMs: median(samples[1]!), target };
}

async function main(): Promise<void> {
  const runtime = await Runtime.create({ backend: 'onnx' });
  const rows: Row[] = [];
  try {
    for (const { spec, target } of TARGETS) rows.push(await measure(runtime, spec, target));
  } finally {
    runtime.dispose();
  }
  const lines = [
    `--backend onnx on ${await ortProvider()}: batch ${BATCH}, seq ${SEQ}, median of ${ITERS} runs after ${WARMUP} warm-up, alternated`,
    '',
    '| graph    | plain export ms | rewritten ms | speed-up | target | met    |',
    '| -------- | --------------- | ------------ | -------- | ------ | ------ |',
    ...rows.map((row) => {
      const ratio = row.plainMs / row.rewrittenMs;
      return `| ${row.spec.padEnd(8)} | ${row.plainMs.toFixed(1).padEnd(15)} | ${row.rewrittenMs.toFixed(1).padEnd(12)} | ${`${ratio.toFixed(2)}x`.padEnd(8)} | ${`≥ ${row.target}x`.padEnd(6)} | ${(ratio >= row.target ? 'met' : 'missed').padEnd(6)} |`;
    }),
  ];
  console.log(lines.join('\n'));
}

await main();
