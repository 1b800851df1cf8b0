/**
 * The software rasterizer's ceiling for `npm run bench`: a short run of bench/kernels' FFN matmul
 * measurement (the compiler's kernels, the naive one and the register-blocked variants, each
 * checked against the CPU f64 reference), and the fastest correct kernel over both FFN matmuls.
 */
import { benchMatmuls } from './kernels/matmul-bench.js';
import { CASES, flopsOf } from './kernels/matmul-cases.js';
import type { KernelResult } from './kernels/matmul-timing.js';
import { sum } from './kernels/statistics.js';

export interface KernelCeiling {
  /** `label kernel` of the fastest correct kernel. */
  readonly kernel: string;
  /** GFLOP/s over both FFN matmuls of one layer (M=128). */
  readonly gflops: number;
  readonly kernels: readonly { readonly kernel: string; readonly gflops: number }[];
}

/** GFLOP/s of each kernel that ran both cases correctly: total work over total time. */
export function ffnKernelGflops(results: readonly KernelResult[]): KernelCeiling['kernels'] {
  const flops = sum(CASES.map(flopsOf));
  const byKernel = new Map<string, KernelResult[]>();
  for (const r of results) {
    // A variant's label is its name; the compiler's kernels have a label apart from it.
    const name =
      r.label === r.kernel || r.label.includes(r.kernel) ? r.label : `${r.label} ${r.kernel}`;
    byKernel.set(name, [...(byKernel.get(name) ?? []), r]);
  }
  return [...byKernel]
    .filter(([, runs]) => runs.length === CASES.length && runs.every((r) => r.correct && !r.error))
    .map(([kernel, runs]) => ({
      kernel,
      gflops: flops / sum(runs.map((r) => r.medianSeconds / r.dispatches)) / 1e9,
    }))
    .sort((a, b) => b.gflops - a.gflops);
}

export async function measureKernelCeiling(
  device: GPUDevice,
  reps: number,
): Promise<KernelCeiling | undefined> {
  const report = await benchMatmuls(device, {
    dispatches: 8,
    targetSeconds: 0.5,
    minDispatches: 2,
    reps,
    warmups: 1,
    passes: 1,
    sections: new Set(['matmul']),
    variants: true,
    match: /(?:)/,
    out: undefined,
  });
  const kernels = ffnKernelGflops([...report.main, ...report.variants]);
  const best = kernels[0];
  return best && { kernel: best.kernel, gflops: best.gflops, kernels };
}
