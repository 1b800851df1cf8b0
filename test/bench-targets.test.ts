import { describe, expect, it } from 'vitest';
import {
  coldStartTarget,
  durationTarget,
  kernelCeilingTarget,
  onnxBackendTarget,
  overheadTarget,
  peerSpeedupTarget,
  servingTarget,
  targetRows,
  targetSummary,
  trainingStepTarget,
} from '../bench/targets.js';
import { ffnKernelGflops } from '../bench/kernel-ceiling.js';
import { CASES, flopsOf } from '../bench/kernels/matmul-cases.js';
import type { KernelResult } from '../bench/kernels/matmul-timing.js';
import { onnxFeeds } from '../bench/peers/node-group.js';
import { chromiumRounds, selectRows } from '../bench/peers/chromium-rows.js';
import { chromiumRoundsText, trainingText, type BenchReport } from '../bench/readme.js';
import { trainingTargets } from '../bench/run-targets.js';
import type { TrainingBench } from '../bench/training/step.js';
import { timeRounds } from '../src/cli/bench/measure.js';

describe('bench targets', () => {
  it('holds adaptc to 1.5x the peer: peer ms over adaptc ms', () => {
    const met = peerSpeedupTarget('ORT-web WebGPU (Node)', 'pfeiffer', 100, 160);
    expect(met).toMatchObject({ value: 1.6, goal: 1.5, rule: 'at least', met: true });
    const missed = peerSpeedupTarget('ORT-web WebGPU (Node)', 'base', 100, 140);
    expect(missed.value).toBeCloseTo(1.4, 12);
    expect(missed.met).toBe(false);
  });

  it('says why a target was not measured instead of judging it', () => {
    const t = peerSpeedupTarget('ORT-web WebGPU (Chromium)', 'base', 100, null, 'no Chromium');
    expect(t).toMatchObject({ value: null, met: null, note: 'no Chromium' });
    expect(targetRows([t])[0]).toEqual([
      'adaptc fused vs ORT-web WebGPU (Chromium)',
      'base',
      '-',
      '≥ 1.50x',
      'not measured (no Chromium)',
    ]);
  });

  it('has an overhead goal per graph and none for the others', () => {
    expect(overheadTarget('pfeiffer', 0.025)).toMatchObject({ goal: 0.03, met: true });
    expect(overheadTarget('houlsby', 0.07)).toMatchObject({ goal: 0.06, met: false });
    expect(overheadTarget('parallel', 0.06)).toMatchObject({ met: true });
    expect(overheadTarget('fusion3', 0.2)).toMatchObject({ goal: 0.2, met: true });
    expect(overheadTarget('fusion8', 0.31)).toMatchObject({ goal: 0.3, met: false });
    expect(overheadTarget('base', 0)).toBeUndefined();
    expect(targetRows([overheadTarget('fusion8', 0.31)!])[0]).toEqual([
      'overhead over the base model',
      'fusion8',
      '+31.0%',
      '≤ +30.0%',
      'missed',
    ]);
    expect(targetRows([overheadTarget('pfeiffer', -0.01)!])[0]![2]).toBe('-1.0%');
  });

  it('compares the graph GFLOP/s with the kernel ceiling as a share', () => {
    const t = kernelCeilingTarget('pfeiffer', 30, 50);
    expect(t).toMatchObject({ value: 0.6, goal: 0.8, met: false });
    expect(targetRows([t])[0]!.slice(2)).toEqual(['60.0%', '≥ 80.0%', 'missed']);
    expect(kernelCeilingTarget('pfeiffer', 45, 50).met).toBe(true);
    expect(kernelCeilingTarget('pfeiffer', 45, 0).met).toBeNull();
  });

  it('holds routed serving within 10% of one adapter', () => {
    expect(servingTarget(8, 950, 1000)).toMatchObject({ graph: 'B=8', value: 0.95, met: true });
    expect(servingTarget(32, 850, 1000)).toMatchObject({ value: 0.85, met: false });
    expect(servingTarget(32, null, 1000).met).toBeNull();
  });

  it('holds the onnx backend to its speed-up over the plain export', () => {
    expect(onnxBackendTarget('fusion8', 200, 100, 1.6)).toMatchObject({ value: 2, met: true });
    expect(onnxBackendTarget('fusion3', 120, 100, 1.3)).toMatchObject({ value: 1.2, met: false });
    // 1.2952 rounds to the goal: the row shows a third digit.
    expect(targetRows([onnxBackendTarget('fusion3', 129.52, 100, 1.3)])[0]!.slice(2)).toEqual([
      '1.295x',
      '≥ 1.30x',
      'missed',
    ]);
    expect(targetRows([onnxBackendTarget('houlsby', 90, 100, 0.9)])[0]!.slice(2)).toEqual([
      '0.90x',
      '≥ 0.90x',
      'met',
    ]);
  });

  it('holds the cold first pass to 3x the steady state, and says why it is missing', () => {
    expect(coldStartTarget('bert', 4500, 3000)).toMatchObject({ value: 1.5, met: true });
    expect(coldStartTarget('bert', 9100, 3000).met).toBe(false);
    expect(coldStartTarget('bert', null, null, 'no adapter')).toMatchObject({
      met: null,
      note: 'no adapter',
    });
    expect(targetRows([coldStartTarget('bert', 4500, 3000)])[0]!.slice(2, 4)).toEqual([
      '1.50x',
      '≤ 3.00x',
    ]);
  });

  it('shows durations in milliseconds against their goal', () => {
    const t = durationTarget('README run line, warm', 'adapt run', 4123.4, 5000);
    expect(t).toMatchObject({ met: true, unit: 'ms' });
    expect(targetRows([t])[0]!.slice(2)).toEqual(['4123 ms', '≤ 5000 ms', 'met']);
    expect(durationTarget('seeding', '110 M', 1200, 1000).met).toBe(false);
  });

  it('counts met, missed and not measured', () => {
    const targets = [
      overheadTarget('pfeiffer', 0.01)!,
      overheadTarget('houlsby', 0.5)!,
      servingTarget(8, null, null),
    ];
    expect(targetSummary(targets)).toBe('1 of 3 met, 1 missed, 1 not measured');
  });
});

describe('timeRounds', () => {
  it('alternates the runners round by round and times only the rounds after the warm-up', async () => {
    const calls: string[] = [];
    const runner = (name: string) => async () => {
      calls.push(name);
    };
    const timings = await timeRounds({ a: runner('a'), b: runner('b'), c: runner('c') }, 1, 2);
    expect(calls).toEqual(['a', 'b', 'c', 'a', 'b', 'c', 'a', 'b', 'c']);
    expect(timings.a.samples).toHaveLength(2);
    expect(timings.c.samples).toHaveLength(2);
    expect(timings.b.min).toBeLessThanOrEqual(timings.b.median);
  });
});

describe('the kernel ceiling', () => {
  const result = (label: string, kernel: string, c: number, seconds: number, correct = true) =>
    ({
      case: CASES[c]!.id,
      label,
      kernel,
      dispatches: 2,
      medianSeconds: 2 * seconds,
      correct,
    }) as unknown as KernelResult;

  it('ranks the kernels correct on both FFN matmuls by total work over total time', () => {
    const flops = flopsOf(CASES[0]!) + flopsOf(CASES[1]!);
    const kernels = ffnKernelGflops([
      result('compiler software (4x vec4)', 'linear_blocked', 0, 0.01),
      result('compiler software (4x vec4)', 'linear_blocked', 1, 0.03),
      result('flat_r8c4', 'flat_r8c4', 0, 0.01),
      result('flat_r8c4', 'flat_r8c4', 1, 0.01),
      result('wrong', 'wrong', 0, 0.001),
      result('wrong', 'wrong', 1, 0.001, false),
    ]);
    expect(kernels.map((k) => k.kernel)).toEqual([
      'flat_r8c4',
      'compiler software (4x vec4) linear_blocked',
    ]);
    expect(kernels[0]!.gflops).toBeCloseTo(flops / 0.02 / 1e9, 6);
    expect(kernels[1]!.gflops).toBeCloseTo(flops / 0.04 / 1e9, 6);
  });
});

describe('onnxFeeds', () => {
  it("feeds ONNX Runtime adaptc's own inputs with every position attended", () => {
    const hidden = Float32Array.from({ length: 2 * 3 * 4 }, (_, i) => i);
    const index = Int32Array.from([0, 1]);
    const feeds = onnxFeeds({
      hidden_states: { data: hidden, shape: [2, 3, 4] },
      adapter_index: { data: index, shape: [2] },
    } as never);
    expect(feeds.hidden_states).toBe(hidden);
    expect(feeds.adapter_index).toBe(index);
    expect([...feeds.attention_mask]).toEqual([1, 1, 1, 1, 1, 1]);
    expect([feeds.batch, feeds.seq, feeds.hidden]).toEqual([2, 3, 4]);
  });
});

describe('the rows run in Chromium', () => {
  const rows = ['base', 'pfeiffer', 'houlsby', 'fusion8'];

  it('runs every row by default, and the rows BENCH_CHROMIUM names in the bench order', () => {
    expect(selectRows(undefined, rows)).toEqual(rows);
    expect(selectRows('all', rows)).toEqual(rows);
    expect(selectRows('fusion8, base', rows)).toEqual(['base', 'fusion8']);
    expect(selectRows('none', rows)).toEqual([]);
    expect(selectRows('', rows)).toEqual([]);
  });

  it('gives the base model and Pfeiffer the full rounds, the heavier rows one timed round', () => {
    expect(chromiumRounds('base', 2)).toEqual({ warmup: 1, iters: 2 });
    expect(chromiumRounds('pfeiffer', 2)).toEqual({ warmup: 1, iters: 2 });
    expect(chromiumRounds('fusion8', 2)).toEqual({ warmup: 1, iters: 1 });
    expect(chromiumRounds('houlsby', 1)).toEqual({ warmup: 1, iters: 1 });
  });

  it('says how each row ran, grouped by its rounds', () => {
    const chromium_rounds = Object.fromEntries(rows.map((r) => [r, chromiumRounds(r, 2)]));
    const report = { chromium_rows: rows, chromium_rounds } as unknown as BenchReport;
    expect(chromiumRoundsText(report)).toBe(
      'base, pfeiffer: 2 timed rounds after 1 warm-up; houlsby, fusion8: 1 timed round after 1 warm-up',
    );
    const none = { chromium_rows: [], chromium_rounds: {} } as unknown as BenchReport;
    expect(chromiumRoundsText(none)).toBe('no row ran in Chromium');
  });
});

describe('the training row', () => {
  const MiB = 2 ** 20;
  const row: TrainingBench = {
    spec: 'pfeiffer-train',
    batch: 8,
    seq: 128,
    layers: 2,
    warmup: 1,
    iters: 3,
    parameters: 14_966_146,
    trainable: 790_402,
    step_ms: 9000,
    forward_ms: 4000,
    fused_forward_ms: 3500,
    step_vs_forward: 2.25,
    planned: {
      activations: 73 * MiB,
      gradients: 36 * MiB,
      weights: 57 * MiB,
      optimizer: 12 * MiB,
      io: 0,
      total: 178 * MiB,
    },
    torch: {
      ok: true,
      torch: '1.13.0',
      blas: 'generic',
      threads: 2,
      warmup: 0,
      rounds: 1,
      trainable: 790_402,
      step_ms: 27000,
      forward_ms: 18000,
    },
  };
  const report = (training: TrainingBench | null) => ({ training }) as unknown as BenchReport;

  it('holds a training step to 2.5x the forward pass of the same program', () => {
    expect(trainingStepTarget('pfeiffer-train', 2400, 1000)).toMatchObject({
      target: 'training step vs forward',
      value: 2.4,
      goal: 2.5,
      rule: 'at most',
      met: true,
    });
    expect(trainingStepTarget('pfeiffer-train', 2600, 1000).met).toBe(false);
    expect(trainingStepTarget('pfeiffer-train', null, 1000, 'no adapter')).toMatchObject({
      met: null,
      note: 'no adapter',
    });
    expect(targetRows([trainingStepTarget('pfeiffer-train', 2400, 1000)])[0]).toEqual([
      'training step vs forward',
      'pfeiffer-train',
      '2.40x',
      '≤ 2.50x',
      'met',
    ]);
  });

  it('judges the row with its figures, and has no target where BENCH_GRAPHS left it out', () => {
    expect(trainingTargets(report(row))).toEqual([
      expect.objectContaining({ graph: 'pfeiffer-train, B=8, T=128', value: 2.25, met: true }),
    ]);
    const slow = { ...row, step_ms: 12000, step_vs_forward: 3 };
    expect(trainingTargets(report(slow))[0]).toMatchObject({
      value: 3,
      met: false,
      reason:
        'step 12000.0 ms, forward 4000.0 ms (fused inference 3500.0 ms); PyTorch on the CPU 27000.0 ms a step',
    });
    expect(trainingTargets(report(null))).toEqual([]);
  });

  it('tabulates the step, the forward passes, PyTorch and the planned memory', () => {
    const text = trainingText(report(row));
    expect(text).toContain(
      '| pfeiffer-train | 8 × 128 | 790,402 of 14,966,146 | 9000.0 | 4000.0 | 2.25x | 3500.0 | 27000.0 | 18000.0 | 3.00x | 178.0 |',
    );
    expect(text).toContain('178.0 MiB (activations kept for the backward pass 73.0');
    expect(text).toContain('BLAS: generic) on the CPU, 2 threads');
    const missing = {
      ...row,
      torch: { ok: false, installed: false, error: 'not installed' },
    } as const;
    const without = trainingText(report(missing));
    expect(without).toContain('| 3500.0 | not installed | - | - | 178.0 |');
    expect(without).toContain('PyTorch: not installed');
    expect(trainingText(report(null))).toBe('Not run (a run narrowed by BENCH_GRAPHS).');
  });
});
