/**
 * The targets `npm run bench` holds its figures to, each met or missed with its numbers, and the
 * table that prints them (the shape of `bench:text`'s targets table).
 */
import { fixed } from './kernels/report.js';

export type TargetUnit = 'ratio' | 'percent' | 'ms';

export interface TargetResult {
  readonly target: string;
  readonly graph: string;
  /** Null where the run could not measure it; `note` says why. */
  readonly value: number | null;
  readonly rule: 'at most' | 'at least';
  readonly goal: number;
  readonly unit: TargetUnit;
  /** Null where the value is. */
  readonly met: boolean | null;
  readonly note?: string;
  /** For a miss: the measured figures that explain it. */
  readonly reason?: string;
}

/** Fused adaptc over the fair peer's time: at least this much faster. */
export const PEER_SPEEDUP_GOAL = 1.5;
/** End-to-end GFLOP/s of the fused graph over the best FFN matmul kernel's. */
export const KERNEL_CEILING_GOAL = 0.8;
/** Routed batch throughput over the same batch through one adapter. */
export const SERVING_GOAL = 0.9;
/** The first forward pass of 12-layer BERT-base with cold driver caches over the steady state. */
export const COLD_START_GOAL = 3;
/** Milliseconds for the seeded initialization of BERT-base's 110 M weights. */
export const SEEDING_GOAL_MS = 1000;
/** Wall milliseconds of the README's `adapt run` line, warm. */
export const RUN_COMMAND_GOAL_MS = 5000;
/** A training step over the forward pass of the same program: the frozen base takes no weight gradients. */
export const TRAINING_STEP_GOAL = 2.5;
/** What the adapters may cost over the base model, fused, per graph. */
export const OVERHEAD_GOALS: Readonly<Record<string, number>> = {
  pfeiffer: 0.03,
  houlsby: 0.06,
  parallel: 0.06,
  fusion3: 0.2,
  fusion8: 0.3,
};

function judge(
  fields: Omit<TargetResult, 'met' | 'value'>,
  value: number | null | undefined,
  note?: string,
): TargetResult {
  const known = value !== null && value !== undefined && Number.isFinite(value);
  const met = known
    ? fields.rule === 'at least'
      ? value >= fields.goal
      : value <= fields.goal
    : null;
  return {
    ...fields,
    value: known ? value : null,
    met,
    ...(known ? {} : { note: note ?? 'not measured' }),
  };
}

/** adaptc's fused time against a peer's: peer ms / adaptc ms, at least 1.5×. */
export function peerSpeedupTarget(
  peer: string,
  graph: string,
  adaptcMs: number | null,
  peerMs: number | null,
  note?: string,
): TargetResult {
  const value = adaptcMs !== null && peerMs !== null && adaptcMs > 0 ? peerMs / adaptcMs : null;
  return judge(
    {
      target: `adaptc fused vs ${peer}`,
      graph,
      rule: 'at least',
      goal: PEER_SPEEDUP_GOAL,
      unit: 'ratio',
    },
    value,
    note,
  );
}

/** The fused graph's GFLOP/s as a share of the best FFN matmul kernel's, at least 80%. */
export function kernelCeilingTarget(
  graph: string,
  graphGflops: number | null,
  kernelGflops: number | null,
  note?: string,
): TargetResult {
  const value =
    graphGflops !== null && kernelGflops !== null && kernelGflops > 0
      ? graphGflops / kernelGflops
      : null;
  return judge(
    {
      target: 'fused GFLOP/s / best FFN matmul kernel',
      graph,
      rule: 'at least',
      goal: KERNEL_CEILING_GOAL,
      unit: 'percent',
    },
    value,
    note,
  );
}

/** fused / base − 1 for a graph with a goal in OVERHEAD_GOALS; undefined for the others. */
export function overheadTarget(graph: string, overhead: number | null): TargetResult | undefined {
  const goal = OVERHEAD_GOALS[graph];
  if (goal === undefined) return undefined;
  return judge(
    { target: 'overhead over the base model', graph, rule: 'at most', goal, unit: 'percent' },
    overhead,
  );
}

/** Routed tokens/s over one adapter's at the same batch, at least 0.9. */
export function servingTarget(
  batch: number,
  routedTokensPerSecond: number | null,
  singleTokensPerSecond: number | null,
): TargetResult {
  const value =
    routedTokensPerSecond !== null && singleTokensPerSecond !== null && singleTokensPerSecond > 0
      ? routedTokensPerSecond / singleTokensPerSecond
      : null;
  return judge(
    {
      target: 'batch(a, b, c) tokens/s vs one adapter',
      graph: `B=${batch}`,
      rule: 'at least',
      goal: SERVING_GOAL,
      unit: 'ratio',
    },
    value,
  );
}

/** The rewritten graph on the onnx backend over the plain export of the same graph. */
export function onnxBackendTarget(
  graph: string,
  plainMs: number | null,
  rewrittenMs: number | null,
  goal: number,
): TargetResult {
  const value =
    plainMs !== null && rewrittenMs !== null && rewrittenMs > 0 ? plainMs / rewrittenMs : null;
  return judge(
    {
      target: '--backend onnx rewritten vs plain export',
      graph,
      rule: 'at least',
      goal,
      unit: 'ratio',
    },
    value,
  );
}

/** First forward pass with the driver's shader caches off over the steady state, at most 3×. */
export function coldStartTarget(
  graph: string,
  firstRunMs: number | null,
  steadyMs: number | null,
  note?: string,
): TargetResult {
  const value =
    firstRunMs !== null && steadyMs !== null && steadyMs > 0 ? firstRunMs / steadyMs : null;
  return judge(
    {
      target: 'cold first pass / steady state',
      graph,
      rule: 'at most',
      goal: COLD_START_GOAL,
      unit: 'ratio',
    },
    value,
    note,
  );
}

/** One training step over the forward pass of the same program on the same backend, at most 2.5×. */
export function trainingStepTarget(
  graph: string,
  stepMs: number | null,
  forwardMs: number | null,
  note?: string,
): TargetResult {
  const value = stepMs !== null && forwardMs !== null && forwardMs > 0 ? stepMs / forwardMs : null;
  return judge(
    {
      target: 'training step vs forward',
      graph,
      rule: 'at most',
      goal: TRAINING_STEP_GOAL,
      unit: 'ratio',
    },
    value,
    note,
  );
}

/** A duration that must stay within its goal: the seeding, the README's run line. */
export function durationTarget(
  target: string,
  graph: string,
  ms: number | null,
  goalMs: number,
): TargetResult {
  return judge({ target, graph, rule: 'at most', goal: goalMs, unit: 'ms' }, ms);
}

export const TARGET_HEADERS = ['target', 'graph', 'value', 'goal', 'met/missed'];

function show(x: number, unit: TargetUnit, goal?: number): string {
  if (unit === 'ms') return `${fixed(x, 0)} ms`;
  if (unit === 'percent') return `${fixed(100 * x, 1)}%`;
  // A value that rounds to its goal shows one more digit, so that a miss does not read as the goal.
  const digits = goal !== undefined && fixed(x, 2) === fixed(goal, 2) && x !== goal ? 3 : 2;
  return `${fixed(x, digits)}x`;
}

/** Overheads are signed: +2.0%, −1.0%; shares and ratios are not. */
function showValue(t: TargetResult): string {
  if (t.value === null) return '-';
  const signed = t.target.startsWith('overhead') && t.value >= 0 ? '+' : '';
  return `${signed}${show(t.value, t.unit, t.goal)}`;
}

export function targetRows(targets: readonly TargetResult[]): string[][] {
  return targets.map((t) => [
    t.target,
    t.graph,
    showValue(t),
    `${t.rule === 'at most' ? '≤' : '≥'} ${t.target.startsWith('overhead') ? '+' : ''}${show(t.goal, t.unit)}`,
    t.met === null ? `not measured (${t.note ?? 'no figure'})` : t.met ? 'met' : 'missed',
  ]);
}

/** "12 of 20 met, 6 missed, 2 not measured". */
export function targetSummary(targets: readonly TargetResult[]): string {
  const met = targets.filter((t) => t.met === true).length;
  const missed = targets.filter((t) => t.met === false).length;
  const unknown = targets.length - met - missed;
  return `${met} of ${targets.length} met, ${missed} missed${unknown > 0 ? `, ${unknown} not measured` : ''}`;
}
