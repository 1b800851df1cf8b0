import {
  adamwState,
  adamwStep,
  backwardFrom,
  crossEntropy,
  forward64,
  type AdamWState,
} from '../cpu/backward/index.js';
import { AdaptRuntimeError } from '../errors.js';
import { activeDropout, dropoutSites } from './dropout/sites.js';
import {
  IGNORED_LABEL,
  type BatchLoss,
  type OptimizerTensorState,
  type StepSettings,
  type TrainingBackend,
  type TrainingBatch,
  type TrainingSetup,
} from './backend.js';

/**
 * Training on the CPU reference (docs/training.md): the f64 forward pass, the mean cross-entropy
 * over the labels that are not IGNORED_LABEL, the f64 backward pass to the trained weights and
 * AdamW with f64 moments. The trained weights are this backend's own f32 copies, rounded once
 * per step as an f32 PyTorch parameter is stored; the frozen ones are the arrays given. With
 * the setup's dropout, each step drops the masks of its number (evaluations drop nothing).
 */
export function createCpuTrainer(setup: TrainingSetup): TrainingBackend {
  const weights = new Map<string, Float32Array | Float64Array>(setup.weights);
  const own = new Map<string, Float32Array>();
  for (const name of setup.trained) {
    const given = setup.weights.get(name);
    if (!given) throw new AdaptRuntimeError(`no weight '${name}' to train among the weights given`);
    const copy = Float32Array.from(given);
    own.set(name, copy);
    weights.set(name, copy);
  }
  const states = new Map<string, AdamWState>(
    setup.trained.map((name) => [name, resumedState(name, own.get(name)!.length, setup)]),
  );
  let gradients: ReadonlyMap<string, Float64Array> = new Map();
  const dropout = activeDropout(setup.dropout);
  const sites = dropout ? dropoutSites(setup.program) : [];

  const lossOf = (batch: TrainingBatch, step?: number) => {
    const forward = forward64(
      setup.program,
      weights,
      batch.inputs,
      dropout && step !== undefined ? { sites, settings: dropout, step } : undefined,
    );
    const logits = forward.outputs[setup.output];
    if (!logits) throw new AdaptRuntimeError(`the program has no output '${setup.output}'`);
    const loss = crossEntropy(logits.data, setup.classes, batch.labels, {
      ignoreIndex: IGNORED_LABEL,
    });
    return { forward, loss, logits: Float32Array.from(logits.data) };
  };

  return {
    name: 'cpu',
    step(batch: TrainingBatch, settings: StepSettings): Promise<BatchLoss> {
      const { forward, loss, logits } = lossOf(batch, settings.step ?? 0);
      gradients = backwardFrom(
        setup.program,
        forward,
        { output: setup.output, gradient: loss.gradient },
        setup.trained,
      );
      for (const [name, param] of own)
        adamwStep(param, gradients.get(name)!, states.get(name)!, settings);
      return Promise.resolve({ loss: loss.loss, logits });
    },
    evaluate(batch: TrainingBatch): Promise<BatchLoss> {
      const { loss, logits } = lossOf(batch);
      return Promise.resolve({ loss: loss.loss, logits });
    },
    lastGradients: () => Promise.resolve(gradients),
    trainedWeights: () => Promise.resolve(own),
    optimizerState: () =>
      Promise.resolve(
        new Map<string, OptimizerTensorState>(
          [...states].map(([name, s]) => [
            name,
            { step: s.step, expAvg: s.expAvg, expAvgSq: s.expAvgSq },
          ]),
        ),
      ),
    dispose: () => undefined,
  };
}

function resumedState(name: string, size: number, setup: TrainingSetup): AdamWState {
  const given = setup.optimizerState?.get(name);
  if (!given) {
    if (setup.optimizerState)
      throw new AdaptRuntimeError(`the optimizer state to resume from has no moments of '${name}'`);
    return adamwState(size);
  }
  if (given.expAvg.length !== size || given.expAvgSq.length !== size)
    throw new AdaptRuntimeError(
      `the optimizer state of '${name}' holds ${given.expAvg.length} values, the weight ${size}`,
    );
  return {
    step: given.step,
    expAvg: Float64Array.from(given.expAvg),
    expAvgSq: Float64Array.from(given.expAvgSq),
  };
}
