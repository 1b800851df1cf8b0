/**
 * Section 3: gentle waiting (gpuWait) vs a plain await, over forward passes of a 2-layer Pfeiffer
 * model. Both modes run the runtime's own GpuModel, the same instance with the same weights,
 * buffers and inputs; only how the output's readback is awaited differs.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { compile } from '../../src/compiler/index.js';
import { normalArray } from '../../src/runtime/random.js';
import type { GpuDevice } from '../../src/runtime/webgpu/device.js';
import { GpuModel, type GpuWaiter } from '../../src/runtime/webgpu/model.js';
import { gpuWait } from '../../src/runtime/webgpu/wait.js';
import { bindWeights, initWeights } from '../../src/runtime/weights.js';
import { BATCH, SEQ } from './options.js';
import { fixed, table } from './report.js';
import { mean, median, sum } from './statistics.js';

export interface WaitResult {
  readonly mode: string;
  readonly passes: number;
  readonly msPerPass: number[];
  readonly medianMs: number;
  readonly meanMs: number;
  readonly totalMs: number;
  /** Process CPU time (main thread and lavapipe's workers) per pass. */
  readonly cpuMsPerPass: number;
  /** Against the first pass of the runtime's default mode (gpuWait). */
  readonly maxAbsDiffVsRuntime: number;
}

export interface WaitReport {
  readonly example: string;
  readonly dispatchesPerPass: number;
  readonly results: WaitResult[];
}

/** Dawn re-arms setImmediate while the mapping is pending: a spinning core. */
const plainAwait: GpuWaiter = (start) => start();

const MODES: readonly { readonly name: string; readonly wait: GpuWaiter }[] = [
  { name: 'runtime (model.run, gpuWait)', wait: gpuWait },
  { name: 'runtime (model.run, plain await)', wait: plainAwait },
];

function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  let max = 0;
  for (let i = 0; i < a.length; i++) max = Math.max(max, Math.abs(a[i]! - b[i]!));
  return max;
}

export async function benchWaiting(
  gpu: GpuDevice,
  root: string,
  passes: number,
): Promise<WaitReport> {
  const example = 'bert-base-pfeiffer.adapt';
  const source = readFileSync(join(root, 'examples', example), 'utf8').replace(
    /layers\s+12\b/,
    'layers 2',
  );
  const { program, diagnostics } = compile(source, { fileName: example });
  if (!program?.gpu) throw new Error(diagnostics.map((d) => d.message).join('; '));
  const weights = bindWeights(program, initWeights(program, 7)).tensors;
  const model = new GpuModel(gpu, program, program.gpu, weights, (notice) =>
    console.error(`  ${notice}`),
  );
  await model.initialize();
  const hidden = normalArray(BATCH * SEQ * program.model.hidden, 42);
  const inputs = { hidden_states: { data: hidden, shape: [BATCH, SEQ, program.model.hidden] } };
  const run = async (wait: GpuWaiter) => {
    model.readbackWait = wait;
    return (await model.run(inputs)).data;
  };

  try {
    const reference = await run(MODES[0]!.wait);
    const diffs: number[] = [];
    for (const mode of MODES) diffs.push(maxAbsDiff(await run(mode.wait), reference));
    for (let i = 0; i < 2; i++) for (const mode of MODES) await run(mode.wait); // warm-up
    const times = MODES.map(() => [] as number[]);
    const cpu = MODES.map(() => 0);
    // Interleaved, so that drift in the machine's load affects every mode alike.
    for (let p = 0; p < passes; p++) {
      for (const [i, mode] of MODES.entries()) {
        const cpuStart = process.cpuUsage();
        const start = performance.now();
        await run(mode.wait);
        times[i]!.push(performance.now() - start);
        const used = process.cpuUsage(cpuStart);
        cpu[i]! += (used.user + used.system) / 1000;
      }
    }
    return {
      example: `${example} with layers 2`,
      dispatchesPerPass: program.gpu.dispatches.length,
      results: MODES.map((mode, i) => ({
        mode: mode.name,
        passes,
        msPerPass: times[i]!,
        medianMs: median(times[i]!),
        meanMs: mean(times[i]!),
        totalMs: sum(times[i]!),
        cpuMsPerPass: cpu[i]! / passes,
        maxAbsDiffVsRuntime: diffs[i]!,
      })),
    };
  } finally {
    model.dispose();
  }
}

export function printWaiting(waiting: WaitReport): void {
  console.log(
    `3. waiting: ${waiting.results[0]?.passes ?? 0} forward passes of ${waiting.example} (${waiting.dispatchesPerPass} dispatches each), interleaved\n`,
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
  const [gentle, plain] = waiting.results;
  if (gentle && plain)
    console.log(
      `\n   plain await / gpuWait (median): ${fixed(plain.medianMs / gentle.medianMs, 2)}x`,
    );
  console.log('');
}
