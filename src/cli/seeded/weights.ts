import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { Program, WeightSpec } from '../../runtime/program.js';
import type { TensorMap } from '../../runtime/safetensors.js';
import { elementCount } from '../../runtime/tensor.js';
import { requireSeed } from '../../runtime/guards.js';
import { assertFits, estimateWeights } from '../../runtime/memory.js';
import { validateProgram } from '../../runtime/validate-program.js';
import { initWeights } from '../../runtime/weights.js';

/** Below this many values a worker's start-up costs more than it saves. */
const WORKER_MIN_VALUES = 4_000_000;
const WORKERS = 2;

/** The worker's module, built beside this one (absent when this file runs from source). */
const WORKER = new URL('./worker.js', import.meta.url);

/** The workers' share of the tensors: the largest first, each to the one with fewer values. */
function shares(specs: readonly WeightSpec[], count: number): WeightSpec[][] {
  const parts = Array.from({ length: count }, () => ({ specs: [] as WeightSpec[], values: 0 }));
  const bySize = [...specs].sort((a, b) => elementCount(b.shape) - elementCount(a.shape));
  for (const spec of bySize) {
    const lightest = parts.reduce((best, part) => (part.values < best.values ? part : best));
    lightest.specs.push(spec);
    lightest.values += elementCount(spec.shape);
  }
  return parts.map((part) => part.specs);
}

function seedInWorker(specs: readonly WeightSpec[], seed: number): Promise<Float32Array[]> {
  const worker = new Worker(WORKER, { workerData: { specs, seed } });
  return new Promise<Float32Array[]>((resolve, reject) => {
    worker.once('message', resolve);
    worker.once('error', reject);
  }).finally(() => worker.terminate());
}

/**
 * `initWeights` on two worker threads (the machines this runs on have two cores), which leaves
 * this thread free for work started beside it, such as ONNX Runtime's start-up: the same
 * tensors, bit for bit, since every tensor's stream depends only on its name and the seed.
 */
export async function seededWeights(program: Program, seed: number): Promise<TensorMap> {
  const total = program.weights.reduce((n, w) => n + elementCount(w.shape), 0);
  if (total < WORKER_MIN_VALUES || !existsSync(fileURLToPath(WORKER)))
    return initWeights(program, seed);
  // What initWeights checks before it allocates.
  validateProgram(program);
  requireSeed(seed);
  assertFits(`the weights of graph '${program.graph}'`, estimateWeights(program));
  const parts = shares(program.weights, WORKERS);
  const computed = await Promise.all(parts.map((specs) => seedInWorker(specs, seed)));
  const byName = new Map<string, Float32Array>();
  parts.forEach((specs, i) => specs.forEach((spec, j) => byName.set(spec.name, computed[i]![j]!)));
  const tensors: TensorMap = new Map();
  for (const spec of program.weights)
    tensors.set(spec.name, { dtype: 'F32', shape: spec.shape, data: byName.get(spec.name)! });
  return tensors;
}
