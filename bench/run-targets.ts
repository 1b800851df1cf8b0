/**
 * The targets of one `npm run bench` report, each with the measured figures that explain a miss:
 * the profile of the fused pass (timestamp queries per dispatch), the kernel ceiling, the peers'
 * times.
 */
import type { BenchReport, GraphRow } from './readme.js';
import {
  coldStartTarget,
  durationTarget,
  kernelCeilingTarget,
  onnxBackendTarget,
  overheadTarget,
  peerSpeedupTarget,
  RUN_COMMAND_GOAL_MS,
  SEEDING_GOAL_MS,
  servingTarget,
  trainingStepTarget,
  type TargetResult,
} from './targets.js';

const ms = (x: number) => `${x.toFixed(1)} ms`;

/** The profile's three largest kernel groups: "linear · base 610.2 ms (71%), …". */
function topGroups(row: GraphRow | undefined): string {
  if (!row?.profile) return '';
  const groups = row.profile.groups
    .slice(0, 3)
    .map((g) => `${g.group} ${ms(g.ms)} (${(100 * g.share).toFixed(0)}%)`)
    .join(', ');
  return `; the fused ${row.spec} pass spends ${ms(row.profile.total_ms)} on the GPU (${row.profile.method}): ${groups}`;
}

/** Time of the adapter and fusion kernels in the fused pass, and their share of it. */
function adapterShare(row: GraphRow): string {
  if (!row.profile) return '';
  const extra = row.profile.groups.filter((g) => !/· (base|graph)$/.test(g.group));
  const total = extra.reduce((n, g) => n + g.ms, 0);
  const named = extra.map((g) => `${g.group} ${ms(g.ms)}`).join(', ');
  return `; the adapter kernels take ${ms(total)} of ${ms(row.profile.total_ms)} on the GPU (${(100 * (total / row.profile.total_ms)).toFixed(1)}%${named ? `: ${named}` : ''})`;
}

function withReason(t: TargetResult, reason: string): TargetResult {
  return t.met === false ? { ...t, reason } : t;
}

export function evaluateTargets(report: BenchReport): TargetResult[] {
  const profiled = report.graphs.find((r) => r.profile !== null);
  const ceiling = report.kernel_ceiling;
  const chromiumNote = report.peers.chromium.startsWith('not run')
    ? report.peers.chromium
    : 'not run in Chromium: BENCH_CHROMIUM left this row out';
  const targets: TargetResult[] = [];
  for (const row of report.graphs) {
    targets.push(
      withReason(
        peerSpeedupTarget('ORT-web WebGPU (Dawn)', row.spec, row.fused_ms, row.ort_webgpu_ms),
        `adaptc ${ms(row.fused_ms)}, ORT-web WebGPU ${ms(row.ort_webgpu_ms)}${topGroups(row.profile ? row : profiled)}`,
      ),
    );
    targets.push(
      withReason(
        peerSpeedupTarget(
          'ORT-web WebGPU (Chromium)',
          row.spec,
          row.chromium_adaptc_ms,
          row.chromium_ort_webgpu_ms,
          chromiumNote,
        ),
        `in Chromium on SwiftShader adaptc ${ms(row.chromium_adaptc_ms ?? NaN)}, ORT-web WebGPU ${ms(row.chromium_ort_webgpu_ms ?? NaN)}`,
      ),
    );
  }
  for (const row of report.graphs) {
    const ffn = row.profile
      ? `, the FFN matmuls inside it ${row.profile.ffn_gflops.toFixed(1)} GFLOP/s`
      : '';
    targets.push(
      withReason(
        kernelCeilingTarget(row.spec, row.gflops, ceiling?.gflops ?? null, 'no correct kernel'),
        `the fused ${row.spec} graph reaches ${row.gflops.toFixed(1)} GFLOP/s end to end${ffn}, the best FFN matmul kernel (${ceiling?.kernel ?? '-'}) ${ceiling?.gflops.toFixed(1) ?? '-'} GFLOP/s alone${topGroups(row.profile ? row : undefined)}`,
      ),
    );
  }
  for (const row of report.graphs) {
    const t = overheadTarget(row.spec, row.overhead);
    if (t) {
      targets.push(
        withReason(t, `fused ${ms(row.fused_ms)} vs base ${ms(row.base_ms)}${adapterShare(row)}`),
      );
    }
  }
  for (const s of report.serving) {
    targets.push(
      withReason(
        servingTarget(s.batch, s.routed_tokens_per_s, s.single_tokens_per_s),
        `batch(a, b, c) ${ms(s.routed_ms)} vs one adapter ${ms(s.single_ms)} a pass at B=${s.batch}, T=${s.seq}`,
      ),
    );
  }
  targets.push(...trainingTargets(report));
  targets.push(...endToEndTargets(report));
  return targets;
}

/** The training step against the forward pass; none where BENCH_GRAPHS left the row out. */
export function trainingTargets(report: BenchReport): TargetResult[] {
  const t = report.training;
  if (!t) return [];
  const torch = t.torch.ok ? `; PyTorch on the CPU ${ms(t.torch.step_ms)} a step` : '';
  return [
    withReason(
      trainingStepTarget(`${t.spec}, B=${t.batch}, T=${t.seq}`, t.step_ms, t.forward_ms),
      `step ${ms(t.step_ms)}, forward ${ms(t.forward_ms)} (fused inference ${ms(t.fused_forward_ms)})${torch}`,
    ),
  ];
}

function endToEndTargets(report: BenchReport): TargetResult[] {
  const e2e = report.end_to_end;
  if (!e2e) return [];
  const targets = e2e.onnx_backend.rows.map((row) =>
    withReason(
      onnxBackendTarget(row.spec, row.plain_ms, row.rewritten_ms, row.target),
      `${e2e.onnx_backend.provider}: the plain export ${ms(row.plain_ms)}, rewritten ${ms(row.rewritten_ms)}`,
    ),
  );
  const cold = e2e.cold_start;
  targets.push(
    withReason(
      coldStartTarget(
        '12-layer BERT-base, T=128',
        cold?.first_run_ms ?? null,
        cold?.steady_ms ?? null,
        e2e.cold_start_error,
      ),
      `load ${ms(cold?.load_ms ?? NaN)}, first pass ${ms(cold?.first_run_ms ?? NaN)}, steady ${ms(cold?.steady_ms ?? NaN)}`,
    ),
  );
  targets.push(
    withReason(
      durationTarget(
        'seeded init (two threads)',
        `${(e2e.seeding.values / 1e6).toFixed(1)} M weights`,
        e2e.seeding.ms,
        SEEDING_GOAL_MS,
      ),
      `${ms(e2e.seeding.ms)} for ${e2e.seeding.values} values`,
    ),
  );
  targets.push(
    withReason(
      durationTarget(
        'README run line, warm',
        e2e.run_command.command,
        e2e.run_command.median_ms,
        RUN_COMMAND_GOAL_MS,
      ),
      `wall ${e2e.run_command.wall_ms.map((w) => ms(w)).join(', ')}`,
    ),
  );
  return targets;
}
