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
 * Prints tables and writes bench/results/kernels.json. The sections live in bench/kernels/.
 */
import { loadavg } from 'node:os';
import { join, relative } from 'node:path';
import { GpuDevice } from '../src/runtime/webgpu/device.js';
import { benchMatmuls, printMatmuls } from './kernels/matmul-bench.js';
import { BATCH, readOptions, SEQ, UsageError, type KernelBenchOptions } from './kernels/options.js';
import { benchPlans, printPlans } from './kernels/plan-bench.js';
import { writeReport } from './kernels/report.js';
import { repositoryRoot } from './kernels/root.js';
import { benchWaiting, printWaiting } from './kernels/waiting-bench.js';

const loadAverage = () => loadavg().map((x) => Number(x.toFixed(2)));

async function main(options: KernelBenchOptions): Promise<void> {
  const root = repositoryRoot();
  const gpu = await GpuDevice.create();
  const adapter = gpu.adapter;
  console.log(
    `adapter: ${adapter.description || adapter.architecture || '?'} (profile ${adapter.profile}); node ${process.version}`,
  );
  console.log(
    `B=${BATCH} T=${SEQ}; up to ${options.dispatches} dispatches per measurement (fewer where ${options.dispatches} would take over ${options.targetSeconds} s), median of ${options.reps} interleaved rounds, after ${options.warmups} warm-up submissions\n`,
  );
  console.log(
    `load average at start: ${loadAverage().join(', ')} (other processes skew the figures)`,
  );
  const report: Record<string, unknown> = {
    date: new Date().toISOString(),
    node: process.version,
    adapter,
    loadAverageAtStart: loadAverage(),
    options: {
      batch: BATCH,
      seq: SEQ,
      dispatches: options.dispatches,
      targetSeconds: options.targetSeconds,
      reps: options.reps,
      warmups: options.warmups,
      passes: options.passes,
    },
  };

  if (options.sections.has('matmul')) {
    console.error('1. matmul kernels');
    const matmul = await benchMatmuls(gpu.device, options);
    report.matmul = matmul;
    printMatmuls(matmul);
  }
  if (options.sections.has('plan')) {
    const plans = benchPlans(root);
    report.plans = plans;
    printPlans(plans);
  }
  if (options.sections.has('wait')) {
    console.error('3. waiting');
    const waiting = await benchWaiting(gpu, root, options.passes);
    report.waiting = waiting;
    printWaiting(waiting);
  }

  report.loadAverageAtEnd = loadAverage();
  console.log(`load average at end: ${loadAverage().join(', ')}`);
  const outFile = options.out ?? join(root, 'bench', 'results', 'kernels.json');
  await writeReport(outFile, report);
  console.log(`wrote ${relative(process.cwd(), outFile) || outFile}`);
  gpu.dispose();
}

try {
  await main(readOptions(process.argv.slice(2)));
  process.exit(0);
} catch (error) {
  if (error instanceof UsageError) {
    console.error(error.message);
    process.exit(2);
  }
  console.error(error instanceof Error ? (error.stack ?? error.message) : String(error));
  process.exit(1);
}
