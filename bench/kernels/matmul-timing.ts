/** Times matmul candidates on one device with the same buffers, and checks their output. */
import { evaluateSize } from '../../src/runtime/program.js';
import { withErrorScopes } from '../../src/runtime/webgpu/device.js';
import { gpuWait } from '../../src/runtime/webgpu/wait.js';
import { bindGroup, createPipeline, dispatch, readBack } from './gpu-helpers.js';
import type { Candidate } from './matmul-candidates.js';
import { compare, flopsOf, TOLERANCE, type Comparison, type MatmulCase } from './matmul-cases.js';
import { BATCH, SEQ, type KernelBenchOptions } from './options.js';
import { median } from './statistics.js';

/** One case's buffers, shared by every candidate, and its CPU reference. */
export interface CaseData {
  readonly c: MatmulCase;
  readonly x: GPUBuffer;
  readonly w: GPUBuffer;
  readonly bias: GPUBuffer;
  readonly out: GPUBuffer;
  readonly reference: Float64Array;
}

export interface KernelResult {
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

export type TimingOptions = Pick<
  KernelBenchOptions,
  'dispatches' | 'minDispatches' | 'targetSeconds' | 'reps' | 'warmups'
>;

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

type Measured = Omit<KernelResult, 'case' | 'label' | 'kernel' | 'workgroups' | 'dispatches'>;

function failed(base: Omit<KernelResult, keyof Measured>, error: string | undefined): KernelResult {
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
    error,
  };
}

function measured(
  c: MatmulCase,
  dispatches: number,
  wall: number[],
  cpu: number[],
  check: Comparison,
): Measured {
  const flops = flopsOf(c) * dispatches;
  const medianSeconds = median(wall);
  return {
    secondsPerMeasurement: wall,
    cpuSecondsPerMeasurement: cpu,
    medianSeconds,
    msPerDispatch: (medianSeconds / dispatches) * 1000,
    gflops: flops / medianSeconds / 1e9,
    bestGflops: flops / Math.min(...wall) / 1e9,
    gflopsPerCpuSecond: flops / median(cpu) / 1e9,
    relError: check.relError,
    maxAbsError: check.maxAbsError,
    correct: check.relError <= TOLERANCE,
  };
}

/**
 * Times every candidate of one case. Each is first run once on a poisoned output and checked
 * against the reference (so a kernel that writes nothing or the wrong thing cannot pass), then
 * warmed up; the measurements go in rounds over all candidates, in a rotating order, so that
 * other processes' load, which changes over time on a shared machine, hits every candidate alike.
 */
export async function timeCandidates(
  device: GPUDevice,
  params: GPUBuffer,
  data: CaseData,
  candidates: readonly Candidate[],
  options: TimingOptions,
): Promise<KernelResult[]> {
  const { c } = data;
  const queue = device.queue;
  const done = () => gpuWait(() => queue.onSubmittedWorkDone());
  const prepared: Prepared[] = [];
  for (const candidate of candidates) prepared.push(await prepare(device, params, data, candidate));
  const ready = prepared.filter((p) => p.pipeline);
  const checks = new Map<Prepared, Comparison>();
  const dispatches = new Map<Prepared, number>();
  const poison = new Float32Array(c.m * c.n).fill(NaN);
  await withErrorScopes(device, `checking ${c.id} kernels`, async () => {
    for (const p of ready) {
      queue.writeBuffer(data.out, 0, poison.buffer, 0, poison.byteLength);
      queue.submit([encode(device, p, 1)]);
      checks.set(p, compare(await readBack(device, data.out, c.m * c.n), data.reference));
      const single: number[] = [];
      for (let i = 0; i < options.warmups; i++) {
        const start = performance.now();
        queue.submit([encode(device, p, 1)]);
        await done();
        single.push((performance.now() - start) / 1000);
      }
      // Slow kernels get fewer dispatches per measurement (GFLOP/s counts the ones made).
      const fit = Math.round(options.targetSeconds / Math.max(median(single), 1e-6));
      dispatches.set(p, Math.max(options.minDispatches, Math.min(options.dispatches, fit)));
    }
  });
  const seconds = new Map<Prepared, number[]>(ready.map((p) => [p, []]));
  const cpuSeconds = new Map<Prepared, number[]>(ready.map((p) => [p, []]));
  await withErrorScopes(device, `timing ${c.id} kernels`, async () => {
    for (let round = 0; round < options.reps; round++) {
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
      console.error(`  ${c.id}: round ${round + 1} of ${options.reps}`);
    }
  });
  return prepared.map((p) => {
    const n = dispatches.get(p) ?? 0;
    const base = {
      case: c.id,
      label: p.candidate.label,
      kernel: p.candidate.kernel,
      workgroups: p.count,
      dispatches: n,
    };
    if (!p.pipeline) return failed(base, p.error);
    return { ...base, ...measured(c, n, seconds.get(p)!, cpuSeconds.get(p)!, checks.get(p)!) };
  });
}
