/**
 * The training row of `npm run bench`: one WebGPU training step (forward, mean cross-entropy,
 * backward to the adapter and the head, AdamW) of bench/specs-training/pfeiffer-train.adapt
 * against the forward pass of the same program on the same trainer (its kernels, its kept
 * activations, the loss read back), and the fused inference forward for context, alternated round
 * by round; then PyTorch's step of the same model on this machine's CPU.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { timeRounds } from '../../src/cli/bench/measure.js';
import { compile } from '../../src/compiler/index.js';
import { prepareInputs, randomInputs } from '../../src/runtime/inputs.js';
import type { Program, Target } from '../../src/runtime/program.js';
import { seededUniform } from '../../src/runtime/random.js';
import type { Runtime } from '../../src/runtime/runtime.js';
import type { StepSettings, TrainingBatch } from '../../src/runtime/training/backend.js';
import { trainableWeights } from '../../src/runtime/training/trainable.js';
import { GpuDevice } from '../../src/runtime/webgpu/device.js';
import {
  createWebGpuTrainer,
  type TrainingMemory,
} from '../../src/runtime/webgpu/training/index.js';
import { bindWeights, initWeights } from '../../src/runtime/weights.js';
import { repositoryRoot } from '../kernels/root.js';
import { runTorchStep, type TorchOutcome } from './torch.js';

export const TRAINING_SPEC = join(repositoryRoot(), 'bench/specs-training/pfeiffer-train.adapt');
/** The adapter trained (with its head of the same name). */
const TRAINED = 'task';
const SETTINGS: StepSettings = { lr: 1e-4, weightDecay: 0, beta1: 0.9, beta2: 0.999, eps: 1e-8 };

export interface TrainingBenchSettings {
  readonly batch: number;
  readonly seq: number;
  readonly warmup: number;
  readonly iters: number;
  readonly target: Target;
  /** PyTorch's threads: this machine's cores. */
  readonly threads: number;
  readonly torchWarmup: number;
  readonly torchRounds: number;
}

export interface TrainingBench {
  readonly spec: string;
  readonly batch: number;
  readonly seq: number;
  readonly layers: number;
  readonly warmup: number;
  readonly iters: number;
  readonly parameters: number;
  readonly trainable: number;
  /** Median ms of one training step on WebGPU, waited for as the runtime waits. */
  readonly step_ms: number;
  /** Median ms of the trainer's forward pass and loss of the same program (`evaluate`). */
  readonly forward_ms: number;
  /** Median ms of the fused inference forward pass of the graph (`runtime.load`, `run`). */
  readonly fused_forward_ms: number;
  readonly step_vs_forward: number;
  readonly planned: TrainingMemory;
  readonly torch: TorchOutcome;
}

function compileSpec(source: string, fuse: boolean, target: Target): Program {
  const result = compile(source, { fileName: 'pfeiffer-train.adapt', fuse, target });
  if (!result.program) {
    throw new Error(`pfeiffer-train.adapt: ${result.diagnostics.map((d) => d.message).join('; ')}`);
  }
  return result.program;
}

/** Random labels, one per sequence, seeded. */
function randomLabels(count: number, classes: number, seed: number): Int32Array {
  const next = seededUniform(seed);
  return Int32Array.from({ length: count }, () =>
    Math.min(classes - 1, Math.floor(next() * classes)),
  );
}

export async function benchTraining(
  runtime: Runtime,
  settings: TrainingBenchSettings,
  log: (line: string) => void,
): Promise<TrainingBench> {
  const { batch, seq, target } = settings;
  const source = readFileSync(TRAINING_SPEC, 'utf8');
  const unfused = compileSpec(source, false, target);
  const fused = compileSpec(source, true, target);
  const seeded = initWeights(unfused, 0);
  const weights = bindWeights(unfused, seeded).tensors;
  const trained = trainableWeights(unfused, { adapter: TRAINED }).names;
  const classes = unfused.outputs.find((o) => o.name === 'logits')!.shape.at(-1) as number;
  const inputs = randomInputs(unfused, batch, seq, 1);
  const trainingBatch: TrainingBatch = {
    inputs: prepareInputs(unfused, inputs),
    labels: randomLabels(batch, classes, 2),
  };
  const gpu = await GpuDevice.create();
  try {
    log(`training: planning and building the kernels of ${trained.length} trained tensors…`);
    const trainer = await createWebGpuTrainer(
      { program: unfused, weights, trained, output: 'logits', classes },
      { device: gpu.device, target },
    );
    const inference = await runtime.load(fused, seeded);
    try {
      log(
        `training: step, forward and fused forward at B=${batch}, T=${seq}, ${settings.iters} rounds after ${settings.warmup}…`,
      );
      const timings = await timeRounds(
        {
          step: () => trainer.step(trainingBatch, SETTINGS),
          forward: () => trainer.evaluate(trainingBatch),
          fused: () => inference.run(inputs),
        },
        settings.warmup,
        settings.iters,
      );
      const planned = trainer.plannedMemory(batch, seq);
      log(`training: PyTorch's step on the CPU (${settings.threads} threads)…`);
      const torch = await runTorchStep({
        batch,
        seq,
        threads: settings.threads,
        warmup: settings.torchWarmup,
        rounds: settings.torchRounds,
      });
      const count = (names: readonly string[]) =>
        names.reduce((n, name) => n + weights.get(name)!.length, 0);
      return {
        spec: 'pfeiffer-train',
        batch,
        seq,
        layers: unfused.model.layers,
        warmup: settings.warmup,
        iters: settings.iters,
        parameters: count([...weights.keys()]),
        trainable: count(trained),
        step_ms: timings.step.median,
        forward_ms: timings.forward.median,
        fused_forward_ms: timings.fused.median,
        step_vs_forward: timings.step.median / timings.forward.median,
        planned,
        torch,
      };
    } finally {
      inference.dispose();
      trainer.dispose();
    }
  } finally {
    gpu.dispose();
  }
}
