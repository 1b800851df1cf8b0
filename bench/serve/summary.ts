import type { ClassifyOutcome } from './classify.js';
import {
  MIXED_SHARE_GOAL,
  TARGET_BASE,
  TARGET_MIXED,
  type ServeConfiguration,
} from './configurations.js';

/** The q-quantile (0 ≤ q ≤ 1) of `xs`, interpolated between the nearest ranks. */
export function quantile(xs: readonly number[], q: number): number {
  if (xs.length === 0) return NaN;
  const sorted = [...xs].sort((a, b) => a - b);
  const at = q * (sorted.length - 1);
  const low = Math.floor(at);
  const high = Math.min(low + 1, sorted.length - 1);
  return sorted[low]! + (at - low) * (sorted[high]! - sorted[low]!);
}

export interface LoadSummary {
  readonly requests: number;
  readonly ok: number;
  /** Requests whose last answer was not a 200 with the contract's results. */
  readonly failed: number;
  /** 429 answers, each retried after its Retry-After. */
  readonly rejected_429: number;
  /** The first few failures' status and error. */
  readonly failures: readonly { status: number; error: string }[];
  readonly wall_ms: number;
  readonly sequences_per_s: number;
  /** Non-padding tokens (special tokens included) of the answered texts, by the tokenizer. */
  readonly tokens: number;
  readonly tokens_per_s: number;
  readonly latency_ms: { p50: number; p99: number; mean: number; max: number };
}

const FAILURES_KEPT = 5;

/** Throughput and latency of a measured load; `tokens[i]` is request i's text's token count. */
export function summarizeLoad(
  outcomes: readonly ClassifyOutcome[],
  tokens: readonly number[],
  wallMs: number,
): LoadSummary {
  const ok = outcomes.filter((o) => o.ok);
  const latencies = ok.map((o) => o.latencyMs);
  const answeredTokens = outcomes.reduce((n, o, i) => n + (o.ok ? tokens[i]! : 0), 0);
  const seconds = wallMs / 1000;
  return {
    requests: outcomes.length,
    ok: ok.length,
    failed: outcomes.length - ok.length,
    rejected_429: outcomes.reduce((n, o) => n + o.retries, 0),
    failures: outcomes
      .filter((o) => !o.ok)
      .slice(0, FAILURES_KEPT)
      .map((o) => ({ status: o.status, error: o.error ?? '' })),
    wall_ms: wallMs,
    sequences_per_s: ok.length / seconds,
    tokens: answeredTokens,
    tokens_per_s: answeredTokens / seconds,
    latency_ms: {
      p50: quantile(latencies, 0.5),
      p99: quantile(latencies, 0.99),
      mean: latencies.reduce((a, b) => a + b, 0) / latencies.length,
      max: Math.max(...latencies),
    },
  };
}

/** What one configuration's server and load came to. */
export interface ConfigurationResult extends ServeConfiguration {
  readonly command: string;
  /** The `--backend` the server was started with. */
  readonly backend_option?: string;
  /** /v1/models' `backend`, where it says. */
  readonly backend: string | null;
  /** From spawning the server to its listening line. */
  readonly load_ms: number | null;
  /** The server's exit code after SIGTERM (null: it had to be killed). */
  readonly exit_code: number | null;
  /** adapt_batch_size's mean over the measured requests, where /metrics has it. */
  readonly mean_batch_size: number | null;
  /** adapt_tokens_total's growth over the measured requests, where /metrics has it. */
  readonly metrics_tokens: number | null;
  /**
   * The CPU time the server's processes used over the measured requests, per answered sequence
   * (Linux only): its own work, which other load on the machine moves less than wall time.
   */
  readonly server_cpu_ms_per_sequence: number | null;
  readonly load: LoadSummary | null;
  /** Why the configuration did not run to the end. */
  readonly error: string | null;
}

export interface TargetResult {
  readonly target: string;
  readonly value: number | null;
  readonly goal: number;
  readonly met: boolean | null;
}

/** 16 adapters mixed's figure over 1 adapter's. */
function ratio(
  results: readonly ConfigurationResult[],
  figure: (r: ConfigurationResult) => number | null | undefined,
): number | null {
  const of = (name: string) => {
    const found = results.find((r) => r.name === name);
    return found === undefined ? null : (figure(found) ?? null);
  };
  const base = of(TARGET_BASE);
  const mixed = of(TARGET_MIXED);
  return base === null || mixed === null || base === 0 ? null : mixed / base;
}

const result = (target: string, value: number | null): TargetResult => ({
  target,
  value,
  goal: MIXED_SHARE_GOAL,
  met: value === null ? null : value >= MIXED_SHARE_GOAL,
});

/**
 * 16 adapters mixed against 1 adapter: the target, by sequences/s; and the same by the server's
 * CPU time per sequence (1 adapter's over 16's), a check less moved by other work on the machine.
 */
export function checkTargets(results: readonly ConfigurationResult[]): TargetResult[] {
  const rate = ratio(results, (r) => r.load?.sequences_per_s);
  const cpu = ratio(results, (r) =>
    r.server_cpu_ms_per_sequence ? 1 / r.server_cpu_ms_per_sequence : null,
  );
  return [
    result(`${TARGET_MIXED} ≥ ${100 * MIXED_SHARE_GOAL}% of ${TARGET_BASE} (sequences/s)`, rate),
    result('the same by the server CPU time per sequence (a check)', cpu),
  ];
}
