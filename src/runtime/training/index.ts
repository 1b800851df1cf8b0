/** Training adapters and fusions: data, batches, schedule, the trained set, the loop, backends. */
export {
  IGNORED_LABEL,
  type BatchLoss,
  type OptimizerTensorState,
  type StepSettings,
  type TrainingBackend,
  type TrainingBatch,
  type TrainingSetup,
} from './backend.js';
export { parseTrainingData, type TrainingData, type TrainingRow } from './data.js';
export {
  encodeTrainingData,
  type EncodedData,
  type EncodedRow,
  type TrainingTokenizer,
} from './encode.js';
export { FrozenWeightsMissingError, TrainingError } from './errors.js';
export { trainingHead, type TrainingHead } from './head.js';
export { makeBatch, batchLines } from './batch.js';
export { BatchOrder, epochPermutation, stepsPerEpoch, type DataOrder } from './order.js';
export { learningRate, scheduleFactor, type Schedule, type ScheduleKind } from './schedule.js';
export {
  trainableModules,
  trainableWeights,
  type TrainableSet,
  type TrainTarget,
} from './trainable.js';
export { evaluateData, type Evaluation } from './evaluate.js';
export { createCpuTrainer } from './cpu-backend.js';
export {
  train,
  TRAIN_DEFAULTS,
  type EvaluationReport,
  type OptimizerSettings,
  type StepReport,
  type TrainCallbacks,
  type TrainOptions,
  type TrainResult,
} from './loop.js';
