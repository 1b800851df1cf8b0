import type { Model } from '../../compiler/model.js';
import type { Program } from '../program.js';
import type { TensorMap } from '../safetensors.js';
import { bindWeights, initTensor } from '../weights.js';
import type { TrainingSetup } from './backend.js';
import { FrozenWeightsMissingError } from './errors.js';
import { trainingHead, type TrainingHead } from './head.js';
import { initialTrainedWeights } from './init/index.js';
import { trainableWeights, type TrainableSet, type TrainTarget } from './trainable.js';

export interface PrepareTrainingOptions {
  readonly target: TrainTarget;
  /**
   * The weight files, in the order they are read: the checkpoint's, then the saved directories'
   * and any others. A trained tensor none of them holds starts as its config says.
   */
  readonly weights: readonly TensorMap[];
  /** The seed of new trained tensors (`initialTrainedWeights`). */
  readonly seed: number;
}

export interface PreparedTraining {
  /** What `createCpuTrainer` and `createWebGpuTrainer` take, the loss on `logits`. */
  readonly setup: TrainingSetup;
  /** What `parseTrainingData` takes: the head's kind and labels. */
  readonly head: TrainingHead;
  readonly trainable: TrainableSet;
  /** Trained tensors that no file held, initialized from the seed. */
  readonly initialized: readonly string[];
}

/**
 * The setup of a training run from a compiled spec (`compile(source, { fuse: false })`, whose
 * `model` and `program` it takes, so the runtime imports no compiler): the head, the trained set
 * of the target, and every weight bound, as `adapt train` assembles them. Frozen weights that no
 * file holds are a FrozenWeightsMissingError naming them (they would stay at a seed, untrained).
 */
export function prepareTraining(
  compiled: { readonly model: Model; readonly program: Program },
  options: PrepareTrainingOptions,
): PreparedTraining {
  const { model, program } = compiled;
  const head = trainingHead(program);
  const trainable = trainableWeights(program, options.target);
  const trainedSet = new Set(trainable.names);
  const missing = program.weights.filter((w) => !options.weights.some((m) => holds(m, w.name)));
  const frozen = missing.filter((w) => !trainedSet.has(w.name));
  if (frozen.length > 0) throw new FrozenWeightsMissingError(frozen.map((w) => w.name));
  const fresh =
    missing.length > 0
      ? initialTrainedWeights(model, program, options.target, options.seed)
      : undefined;
  const init: TensorMap = new Map();
  for (const spec of missing) {
    const data = fresh?.get(spec.name) ?? initTensor(spec, options.seed);
    init.set(spec.name, { dtype: 'F32', shape: spec.shape, data });
  }
  const bound = bindWeights(program, [...options.weights, init]);
  return {
    setup: {
      program,
      weights: bound.tensors,
      trained: trainable.names,
      output: 'logits',
      classes: head.labels.length,
    },
    head,
    trainable,
    initialized: missing.map((w) => w.name),
  };
}

/**
 * Whether a file holds the program weight `name`: as it is, or under one leading module such as
 * `bert.` (how bindWeights matches a file's names).
 */
function holds(map: TensorMap, name: string): boolean {
  if (map.has(name)) return true;
  for (const key of map.keys()) {
    if (key.length <= name.length + 1 || !key.endsWith(`.${name}`)) continue;
    if (!key.slice(0, key.length - name.length - 1).includes('.')) return true;
  }
  return false;
}
