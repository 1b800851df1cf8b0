import { parentPort, workerData } from 'node:worker_threads';
import type { WeightSpec } from '../../runtime/program.js';
import { initTensor } from '../../runtime/weights.js';

/** The worker half of `seededWeights`: its tensors, their buffers moved to the parent. */
const { specs, seed } = workerData as { specs: WeightSpec[]; seed: number };
const tensors = specs.map((spec) => initTensor(spec, seed));
parentPort!.postMessage(
  tensors,
  tensors.map((t) => t.buffer as ArrayBuffer),
);
