/**
 * The cold start of `examples/bert-base-pfeiffer.adapt` (12 layers) on WebGPU, fused, at B = 1 and
 * T = 128: `runtime.load`, the first forward pass, and the steady state (the median of the next
 * three), as one JSON line on stdout. `npm run bench` runs it in a child process whose driver
 * shader caches are off (bench/end-to-end.ts), so the first pass compiles every pipeline as on
 * a machine that never ran adaptc.
 *
 *   tsc -p bench/tsconfig.json && MESA_SHADER_CACHE_DISABLE=true node dist/bench/cold-start.js
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { compile } from '../src/compiler/index.js';
import { randomInputs } from '../src/runtime/inputs.js';
import { Runtime } from '../src/runtime/runtime.js';
import { initWeights } from '../src/runtime/weights.js';

export const COLD_START_SPEC = 'examples/bert-base-pfeiffer.adapt';
export const COLD_START_SEQ = 128;
const STEADY_RUNS = 3;

export interface ColdStart {
  readonly spec: string;
  readonly seq: number;
  readonly adapter: string;
  readonly load_ms: number;
  readonly first_run_ms: number;
  readonly steady_ms: number;
}

async function main(): Promise<void> {
  const file = fileURLToPath(new URL(`../../${COLD_START_SPEC}`, import.meta.url));
  const runtime = await Runtime.create({ backend: 'webgpu' });
  try {
    const adapter = runtime.adapter!;
    const { program } = compile(readFileSync(file, 'utf8'), {
      fileName: COLD_START_SPEC,
      target: adapter.profile,
      maxBindingBytes: adapter.maxBindingBytes,
    });
    const weights = initWeights(program!, 0);
    const inputs = randomInputs(program!, 1, COLD_START_SEQ, 1);
    let start = performance.now();
    const model = await runtime.load(program!, weights);
    const loadMs = performance.now() - start;
    const times: number[] = [];
    try {
      for (let run = 0; run <= STEADY_RUNS; run++) {
        start = performance.now();
        await model.run(inputs);
        times.push(performance.now() - start);
      }
    } finally {
      model.dispose();
    }
    const steady = times.slice(1).sort((a, b) => a - b)[STEADY_RUNS >> 1]!;
    const result: ColdStart = {
      spec: COLD_START_SPEC,
      seq: COLD_START_SEQ,
      adapter: adapter.description || adapter.architecture,
      load_ms: loadMs,
      first_run_ms: times[0]!,
      steady_ms: steady,
    };
    process.stdout.write(`${JSON.stringify(result)}\n`);
  } finally {
    runtime.dispose();
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await main();
