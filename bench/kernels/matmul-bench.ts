/** Section 1: the FFN matmul kernels, timed and checked, and the register-blocked variants ranked. */
import { storageBuffer, paramsBuffer } from './gpu-helpers.js';
import { VARIANT_LIST, variantKernel, variantName } from './blocked-variants.js';
import { compilerKernel, naiveKernel } from './matmul-candidates.js';
import { CASES, caseInputs, cpuReference, flopsOf } from './matmul-cases.js';
import { timeCandidates, type CaseData, type KernelResult } from './matmul-timing.js';
import { BATCH, SEQ, type KernelBenchOptions } from './options.js';
import { fixed, table } from './report.js';
import { median, sum } from './statistics.js';

export interface VariantRank {
  readonly variant: string;
  readonly ok: boolean;
  readonly msPerFfn: number;
  readonly gflops: number;
  readonly gflopsPerCpuSecond: number;
}

export interface MatmulReport {
  /** The compiler's kernels for both profiles and the naive kernel, per case. */
  readonly main: KernelResult[];
  readonly variants: KernelResult[];
  readonly ranking: VariantRank[];
  /** The fastest correct variant with its WGSL per case. */
  readonly best: (VariantRank & { wgsl: Record<string, string> }) | undefined;
}

/** Variants ranked by the time of both FFN matmuls together (one layer's FFN). */
function rankVariants(names: readonly string[], variants: readonly KernelResult[]): VariantRank[] {
  const flops = sum(CASES.map(flopsOf));
  return names
    .map((name) => {
      const mine = variants.filter((r) => r.kernel === name);
      const ok = mine.length === CASES.length && mine.every((r) => r.correct);
      const seconds = sum(mine.map((r) => r.medianSeconds / r.dispatches));
      const cpu = sum(mine.map((r) => median(r.cpuSecondsPerMeasurement) / r.dispatches));
      return {
        variant: name,
        ok,
        msPerFfn: seconds * 1000,
        gflops: flops / seconds / 1e9,
        gflopsPerCpuSecond: flops / cpu / 1e9,
      };
    })
    .sort((a, b) => Number(b.ok) - Number(a.ok) || a.msPerFfn - b.msPerFfn);
}

export async function benchMatmuls(
  device: GPUDevice,
  options: KernelBenchOptions,
): Promise<MatmulReport> {
  const params = paramsBuffer(device, BATCH, SEQ);
  const main: KernelResult[] = [];
  const variants: KernelResult[] = [];
  const wgslOf = new Map<string, string>();
  const chosen = VARIANT_LIST.filter((v) => options.match.test(variantName(v)));
  for (const [i, c] of CASES.entries()) {
    const inputs = caseInputs(c, 1000 + 10 * i);
    const started = performance.now();
    const reference = cpuReference(c, inputs);
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
    for (const v of options.variants ? chosen : []) {
      const candidate = variantKernel(c, v);
      wgslOf.set(`${c.id}/${candidate.kernel}`, candidate.wgsl);
      candidates.push(candidate);
    }
    const results = await timeCandidates(device, params, data, candidates, options);
    main.push(...results.slice(0, 3));
    variants.push(...results.slice(3));
    for (const buffer of [data.x, data.w, data.bias, data.out]) buffer.destroy();
  }
  params.destroy();

  // Only the variants timed: with --quick there is nothing to rank.
  const ranking = rankVariants(options.variants ? chosen.map(variantName) : [], variants);
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

export function printMatmuls(matmul: MatmulReport): void {
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
