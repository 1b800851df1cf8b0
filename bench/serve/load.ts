import { performance } from 'node:perf_hooks';
import { seededUniform } from '../../src/runtime/random.js';
import { classify, type ClassifyOutcome } from './classify.js';
import type { HttpClient } from './http.js';

/** One request of a load: a text for an adapter. */
export interface PlannedRequest {
  readonly adapter: string;
  readonly text: string;
}

/** Request i classifies texts[i] with an adapter drawn, seeded and uniformly, from `adapters`. */
export function requestPlan(
  texts: readonly string[],
  adapters: readonly string[],
  seed: number,
): PlannedRequest[] {
  const uniform = seededUniform(seed);
  return texts.map((text) => ({
    adapter: adapters[Math.floor(uniform() * adapters.length)]!,
    text,
  }));
}

export interface LoadRun {
  /** Per planned request, in plan order. */
  readonly outcomes: readonly ClassifyOutcome[];
  /** From the first request sent to the last answer. */
  readonly wallMs: number;
}

/**
 * Sends the plan with `concurrency` requests in flight: each of as many loops takes the next
 * request as soon as its last one is answered.
 */
export async function runLoad(
  client: HttpClient,
  plan: readonly PlannedRequest[],
  concurrency: number,
  labels?: number,
): Promise<LoadRun> {
  const outcomes: ClassifyOutcome[] = new Array<ClassifyOutcome>(plan.length);
  let next = 0;
  const loop = async () => {
    while (next < plan.length) {
      const i = next++;
      const { adapter, text } = plan[i]!;
      outcomes[i] = await classify(client, adapter, [text], labels);
    }
  };
  const start = performance.now();
  await Promise.all(Array.from({ length: Math.min(concurrency, plan.length) }, loop));
  return { outcomes, wallMs: performance.now() - start };
}
