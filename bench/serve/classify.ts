import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { retryAfterMs, type HttpClient } from './http.js';

export const CLASSIFY_PATH = '/v1/classify';

/** A 429 without a usable Retry-After is retried after this long. */
const DEFAULT_RETRY_MS = 100;
/** A request still refused after this many 429s counts as failed. */
const MAX_RETRIES = 50;

export interface Classification {
  readonly label: string;
  readonly score: number;
  readonly logits: readonly number[];
}

/** One request's fate, with its latency from the first try to the last answer. */
export interface ClassifyOutcome {
  readonly ok: boolean;
  /** The last answer's status (0: no answer, the connection failed). */
  readonly status: number;
  readonly latencyMs: number;
  /** How many times the server answered 429 before the last answer. */
  readonly retries: number;
  readonly results?: readonly Classification[];
  /** Why a request failed: the server's `error`, or what was wrong with its answer. */
  readonly error?: string;
}

const isNumber = (x: unknown): x is number => typeof x === 'number' && Number.isFinite(x);

function isClassification(value: unknown, labels: number | undefined): value is Classification {
  if (typeof value !== 'object' || value === null) return false;
  const { label, score, logits } = value as Record<string, unknown>;
  return (
    typeof label === 'string' &&
    isNumber(score) &&
    Array.isArray(logits) &&
    logits.every(isNumber) &&
    (labels === undefined || logits.length === labels)
  );
}

/** The results of a 200 answer, or why they are not what the contract says. */
export function readResults(
  body: string,
  texts: number,
  labels: number | undefined,
): { results: Classification[] } | { error: string } {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    return { error: `not JSON: ${body.slice(0, 80)}` };
  }
  const results = (parsed as { results?: unknown }).results;
  if (!Array.isArray(results) || results.length !== texts)
    return { error: `expected {"results": [...]} with ${texts} entries` };
  if (!results.every((r) => isClassification(r, labels)))
    return { error: 'a result without label, score and logits' };
  return { results: results as Classification[] };
}

function errorOf(body: string): string {
  try {
    const error = (JSON.parse(body) as { error?: unknown }).error;
    if (typeof error === 'string') return error;
  } catch {
    // Not JSON: the body itself says what went wrong.
  }
  return body.slice(0, 200);
}

/**
 * `POST /v1/classify` for `texts` through `adapter`; a 429 is retried after its Retry-After until
 * the server takes it. `labels`, where known, is the number of logits each result must have.
 */
export async function classify(
  client: HttpClient,
  adapter: string,
  texts: readonly string[],
  labels?: number,
): Promise<ClassifyOutcome> {
  const start = performance.now();
  let retries = 0;
  for (;;) {
    let answer;
    try {
      answer = await client.postJson(CLASSIFY_PATH, { adapter, texts });
    } catch (error) {
      const latencyMs = performance.now() - start;
      return { ok: false, status: 0, latencyMs, retries, error: (error as Error).message };
    }
    if (answer.status === 429 && retries < MAX_RETRIES) {
      retries++;
      await sleep(retryAfterMs(answer.headers['retry-after'], DEFAULT_RETRY_MS));
      continue;
    }
    const latencyMs = performance.now() - start;
    const { status } = answer;
    if (status !== 200)
      return { ok: false, status, latencyMs, retries, error: errorOf(answer.body) };
    const read = readResults(answer.body, texts.length, labels);
    if ('error' in read) return { ok: false, status, latencyMs, retries, error: read.error };
    return { ok: true, status, latencyMs, retries, results: read.results };
  }
}
