/**
 * Batch serving: the same batch through `batch(a, b, c)`, each sequence routed round-robin to its
 * own adapter by adapter_index, and through one adapter, fused, alternated round by round.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { timeRounds, type Timing } from '../../src/cli/bench/measure.js';
import { compile } from '../../src/compiler/index.js';
import { randomInputs, type ModelInputs } from '../../src/runtime/inputs.js';
import type { Program, Target } from '../../src/runtime/program.js';
import type { Runtime } from '../../src/runtime/runtime.js';
import { initWeights } from '../../src/runtime/weights.js';
import { repositoryRoot } from '../kernels/root.js';

/** Kept out of bench/specs: it is not one of the per-graph rows. */
export const SERVING_SPEC = join(repositoryRoot(), 'bench/serving/batch3.adapt');

export interface ServingResult {
  readonly batch: number;
  readonly seq: number;
  readonly routed_ms: number;
  readonly single_ms: number;
  readonly routed_tokens_per_s: number;
  readonly single_tokens_per_s: number;
  readonly timings: { readonly routed: Timing; readonly single: Timing };
}

export interface ServingSettings {
  readonly batches: readonly number[];
  readonly seq: number;
  readonly warmup: number;
  readonly iters: number;
  readonly target: Target;
}

function program(source: string, graph: string, target: Target): Program {
  const result = compile(source, { fileName: 'batch3.adapt', graph, target, fuse: true });
  if (!result.program) {
    throw new Error(`batch3.adapt: ${result.diagnostics.map((d) => d.message).join('; ')}`);
  }
  return result.program;
}

/** The inputs a program takes: one adapter has no adapter_index. */
function inputsOf(p: Program, inputs: ModelInputs): ModelInputs {
  const takes = new Set(p.inputs.map((input) => input.name));
  return Object.fromEntries(
    Object.entries(inputs).filter(([name]) => takes.has(name)),
  ) as unknown as ModelInputs;
}

export async function benchServing(
  runtime: Runtime,
  settings: ServingSettings,
): Promise<ServingResult[]> {
  const source = readFileSync(SERVING_SPEC, 'utf8');
  const routed = program(source, 'routed', settings.target);
  const single = program(source, 'single', settings.target);
  // One set of weights: adapter a's are the same in both programs.
  const weights = initWeights(routed, 0);
  const models = { routed: await runtime.load(routed, weights) };
  const singleModel = await runtime.load(single, weights).catch((error: unknown) => {
    models.routed.dispose();
    throw error;
  });
  try {
    const results: ServingResult[] = [];
    for (const batch of settings.batches) {
      const inputs = randomInputs(routed, batch, settings.seq, 1);
      const timings = await timeRounds(
        {
          routed: () => models.routed.run(inputsOf(routed, inputs)),
          single: () => singleModel.run(inputsOf(single, inputs)),
        },
        settings.warmup,
        settings.iters,
      );
      const tokens = batch * settings.seq;
      results.push({
        batch,
        seq: settings.seq,
        routed_ms: timings.routed.median,
        single_ms: timings.single.median,
        routed_tokens_per_s: (1000 * tokens) / timings.routed.median,
        single_tokens_per_s: (1000 * tokens) / timings.single.median,
        timings,
      });
    }
    return results;
  } finally {
    models.routed.dispose();
    singleModel.dispose();
  }
}
