/**
 * `--backend onnx` against ONNX Runtime on the plain export of the same graph: for each bench
 * spec, the graph exported as lowered and after adaptc's graph-level rewrites (the fusion
 * algebra), the same seeded weights and input, both loaded through the runtime's onnx backend
 * (one ONNX Runtime, one session code path, the output read back), timed round by round in
 * alternation. Prints the ratio per graph and whether it meets its target.
 *
 *   tsc -p bench/tsconfig.json && node dist/bench/onnx-backend.js [--iters N] [--seq T]
 * `npm run bench` runs it too (bench/end-to-end.ts).
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { compile } from '../src/compiler/index.js';
import { exportOnnx } from '../src/compiler/onnx/index.js';
import { ortProvider } from '../src/runtime/onnx/ort.js';
import { normalArray } from '../src/runtime/random.js';
import { Runtime, type LoadedModel } from '../src/runtime/runtime.js';
import { bindWeights, initWeights } from '../src/runtime/weights.js';

/** Speed-up of the rewritten graph over the plain export that each graph must reach. */
export const ONNX_BACKEND_TARGETS: readonly { readonly spec: string; readonly target: number }[] = [
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

const BATCH = 1;
const WARMUP = 2;
const specs = new URL('specs/', new URL('../../bench/', import.meta.url));

const median = (samples: readonly number[]) => {
  const sorted = [...samples].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
};

export interface OnnxBackendRow {
  readonly spec: string;
  readonly plain_ms: number;
  readonly rewritten_ms: number;
  readonly target: number;
}

async function measure(
  runtime: Runtime,
  spec: string,
  target: number,
  iters: number,
  seq: number,
): Promise<OnnxBackendRow> {
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
    hidden_states: { data: normalArray(BATCH * seq * d, 1), shape: [BATCH, seq, d] },
  };
  const samples: number[][] = [[], []];
  try {
    for (let round = 0; round < WARMUP + iters; round++) {
      for (const [i, model] of models.entries()) {
        const start = performance.now();
        await model.run(inputs);
        if (round >= WARMUP) samples[i]!.push(performance.now() - start);
      }
    }
  } finally {
    for (const model of models) model.dispose();
  }
  return { spec, plain_ms: median(samples[0]!), rewritten_ms: median(samples[1]!), target };
}

/** Every graph of ONNX_BACKEND_TARGETS, plain and rewritten, on the onnx backend. */
export async function measureOnnxBackend(
  iters: number,
  seq: number,
): Promise<{ provider: string; rows: OnnxBackendRow[] }> {
  const runtime = await Runtime.create({ backend: 'onnx' });
  const rows: OnnxBackendRow[] = [];
  try {
    for (const { spec, target } of ONNX_BACKEND_TARGETS)
      rows.push(await measure(runtime, spec, target, iters, seq));
  } finally {
    runtime.dispose();
  }
  return { provider: (await ortProvider()) ?? 'no ONNX Runtime', rows };
}

async function main(): Promise<void> {
  const iters = flag('iters', 5);
  const seq = flag('seq', 128);
  const { provider, rows } = await measureOnnxBackend(iters, seq);
  const lines = [
    `--backend onnx on ${provider}: batch ${BATCH}, seq ${seq}, median of ${iters} runs after ${WARMUP} warm-up, alternated`,
    '',
    '| graph    | plain export ms | rewritten ms | speed-up | target | met    |',
    '| -------- | --------------- | ------------ | -------- | ------ | ------ |',
    ...rows.map((row) => {
      const ratio = row.plain_ms / row.rewritten_ms;
      return `| ${row.spec.padEnd(8)} | ${row.plain_ms.toFixed(1).padEnd(15)} | ${row.rewritten_ms.toFixed(1).padEnd(12)} | ${`${ratio.toFixed(2)}x`.padEnd(8)} | ${`≥ ${row.target}x`.padEnd(6)} | ${(ratio >= row.target ? 'met' : 'missed').padEnd(6)} |`;
    }),
  ];
  console.log(lines.join('\n'));
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await main();
