import type { BackendName } from '../../src/runtime/index.js';
import { median } from '../kernels/statistics.js';
import type { Measured, Prediction } from './measure.js';

/** The medians of one configuration, for 100 sentences (or however many texts there are). */
export interface ConfigurationSummary {
  readonly model: string;
  readonly backend: BackendName;
  readonly batch: number;
  /** How many forward passes one round makes: texts / batch, rounded up. */
  readonly calls: number;
  readonly tokenize_ms: number;
  readonly forward_ms: number;
  readonly scores_ms: number;
  /** The median of the rounds' totals (not the sum of the phases' medians). */
  readonly total_ms: number;
  readonly sentences_per_s: number;
  readonly tokenize_share: number;
  /** Texts whose best label is the reference's: the CPU at batch 1 (else this backend's). */
  readonly labels_agree: number;
  /** The largest difference of any score from the reference's. */
  readonly max_score_diff: number;
  /** How many texts got each label. */
  readonly label_counts: Readonly<Record<string, number>>;
  readonly rounds: readonly { tokenize: number; forward: number; scores: number; total: number }[];
}

function agreement(predictions: readonly Prediction[], reference: readonly Prediction[]) {
  let agree = 0;
  let worst = 0;
  predictions.forEach((p, i) => {
    const want = reference[i]!;
    if (p.label === want.label) agree++;
    p.scores.forEach((s, j) => (worst = Math.max(worst, Math.abs(s - want.scores[j]!))));
  });
  return { labels_agree: agree, max_score_diff: worst };
}

function countLabels(predictions: readonly Prediction[], labels: readonly string[]) {
  const counts = Object.fromEntries(labels.map((label) => [label, 0]));
  for (const p of predictions) counts[p.label]!++;
  return counts;
}

/** The reference predictions of a model: its CPU run at the smallest batch, else any backend's. */
function reference(measured: readonly Measured[], model: string): readonly Prediction[] {
  const runs = measured
    .filter((m) => m.config.subject.name === model)
    .sort(
      (a, b) =>
        Number(a.config.backend !== 'cpu') - Number(b.config.backend !== 'cpu') ||
        a.config.batch - b.config.batch,
    );
  return runs[0]!.predictions;
}

export function summarize(measured: readonly Measured[], texts: number): ConfigurationSummary[] {
  return measured.map((m) => {
    const { subject, backend, batch } = m.config;
    const pick = (phase: 'tokenize' | 'forward' | 'scores' | 'total') =>
      median(m.rounds.map((r) => r[phase]));
    const total = pick('total');
    const tokenize = pick('tokenize');
    return {
      model: subject.name,
      backend,
      batch,
      calls: Math.ceil(texts / batch),
      tokenize_ms: tokenize,
      forward_ms: pick('forward'),
      scores_ms: pick('scores'),
      total_ms: total,
      sentences_per_s: texts / (total / 1000),
      tokenize_share: tokenize / total,
      ...agreement(m.predictions, reference(measured, subject.name)),
      label_counts: countLabels(m.predictions, subject.text.head.labels),
      rounds: m.rounds,
    };
  });
}

/** A target of the benchmark, checked per model on WebGPU. */
export interface TargetResult {
  readonly target: string;
  readonly model: string;
  /** Null where the run could not measure it (no WebGPU adapter, or a batch size not run). */
  readonly value: number | null;
  /** How the value is compared: below the threshold, or at least it. */
  readonly rule: 'below' | 'at least';
  readonly threshold: number;
  /** Null where the value is. */
  readonly met: boolean | null;
}

export const TOKENIZE_SHARE_LIMIT = 0.1;
export const BATCH_SPEEDUP_GOAL = 3;
export const LARGE_BATCH = 100;

/**
 * Per model on WebGPU: tokenizing is under 10% of the total at batch 100, and batch 100 is at
 * least 3x faster than batch 1.
 */
export function checkTargets(
  summaries: readonly ConfigurationSummary[],
  models: readonly string[],
): TargetResult[] {
  return models.flatMap((model) => {
    const at = (batch: number) =>
      summaries.find((s) => s.model === model && s.backend === 'webgpu' && s.batch === batch);
    const large = at(LARGE_BATCH);
    const single = at(1);
    const share = large ? large.tokenize_share : null;
    const speedup = large && single ? single.total_ms / large.total_ms : null;
    return [
      {
        target: `tokenize share of the total at batch ${LARGE_BATCH} on WebGPU`,
        model,
        value: share,
        rule: 'below',
        threshold: TOKENIZE_SHARE_LIMIT,
        met: share === null ? null : share < TOKENIZE_SHARE_LIMIT,
      },
      {
        target: `batch ${LARGE_BATCH} speedup over batch 1 on WebGPU`,
        model,
        value: speedup,
        rule: 'at least',
        threshold: BATCH_SPEEDUP_GOAL,
        met: speedup === null ? null : speedup >= BATCH_SPEEDUP_GOAL,
      },
    ];
  });
}
