import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { Program, WeightSpec } from '../../runtime/program.js';
import type { TensorMap } from '../../runtime/safetensors.js';
import { elementCount } from '../../runtime/tensor.js';
import { requireSeed } from '../../runtime/guards.js';
import { assertFits, estimateWeights } from '../../runtime/memory.js';
import { validateProgram } from '../../runtime/validate-program.js';
import { initTensor, initWeights } from '../../runtime/weights.js';

/** Below this many values a worker's start-up costs more than it saves. */
const WORKER_MIN_VALUES = 4_000_000;

/** The worker's module, built beside this one (absent when this file runs from source). */
const WORKER = new URL('./worker.js', import.meta.url);

/**
 * `initWeights` with the work shared by this thread and one worker thread (the machines this
 * runs on have two cores): the same tensors, bit for bit, since every tensor's stream depends
 * only on its name and the seed. The worker takes the largest tensors until it holds half the
 * values.
 */
export async function seededWeights(program: Program, seed: number): Promise<TensorMap> {
  const total = program.weights.reduce((n, w) => n + elementCount(w.shape), 0);
  if (total < WORKER_MIN_VALUES || !existsSync(fileURLToPath(WORKER)))
    return initWeights(program, seed);
  // What initWeights checks before it allocates.
  validateProgram(program);
  requireSeed(seed);
  assertFits(`the weights of graph '${program.graph}'`, estimateWeights(program));
  const tensors: TensorMap = new Map();
  const bySize = [...program.weights].sort((a, b) => elementCount(b.shape) - elementCount(a.shape));
  const theirs: WeightSpec[] = [];
  let given = 0;
  for (const spec of bySize) {
    if (given >= total / 2) break;
    theirs.push(spec);
    given += elementCount(spec.shape);
  }
  const worker = new Worker(WORKER, {
    workerData: { specs: theirs, seed },
  });
  const done = new Promise<Float32Array[]>((resolve, reject) => {
    worker.once('message', resolve);
    worker.once('error', reject);
  });
  const mine = new Set(theirs.map((spec) => spec.name));
  const local = new Map<string, Float32Array>();
  for (const spec of program.weights) {
    if (!mine.has(spec.name)) local.set(spec.name, initTensor(spec, seed));
  }
  const computed = await done;
  await worker.terminate();
  theirs.forEach((spec, i) => local.set(spec.name, computed[i]!));
  for (const spec of program.weights)
    tensors.set(spec.name, { dtype: 'F32', shape: spec.shape, data: local.get(spec.name)! });
  return tensors;
}
