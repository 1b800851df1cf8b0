export {
  Runtime,
  type BackendName,
  type LoadedModel,
  type LoadOptions,
  type RunOutputs,
  type RuntimeOptions,
  type TextOutputs,
} from './runtime.js';
export {
  predictions,
  textInputs,
  type BatchTokenizer,
  type ClassifyOptions,
  type Encoding,
  type LabelScore,
  type Predictions,
  type TokenLabel,
} from './text/classify.js';
export {
  loadTokenizer,
  TextTokenizer,
  type EncodeOptions,
  type EncodedBatch,
} from './text/tokenizer.js';
export { TokenizerError } from './text/tokenizer-error.js';
export {
  loadSafetensors,
  readSafetensors,
  saveSafetensors,
  SafetensorsError,
  type SafetensorsDType,
  type Tensor,
  type TensorMap,
} from './safetensors.js';
export {
  AdaptError,
  AdaptRuntimeError,
  ArgumentError,
  InputError,
  ProgramError,
  ResourceError,
  WeightError,
} from './errors.js';
export type { IdTensor, ModelInputs, RunInputs, RunOptions, TextInputs } from './inputs.js';
export type { HostTensor } from './tensor.js';
export type {
  Program,
  ProgramNode,
  ProgramSlots,
  ProgramText,
  SlotWeight,
  WeightSpec,
} from './program.js';
export {
  formatProvenance,
  sameProvenance,
  type NodeOf,
  type Provenance,
  type ScopeKind,
} from './ops/node.js';
export { OPS, type OpName, type OpAttrs } from './ops/registry.js';
export { initWeights, bindWeights } from './weights.js';
export { validateProgram } from './validate-program.js';
export { interpret } from './cpu/interpreter.js';
export { maxTokens, positionIds, prepareInputs, randomInputs } from './inputs.js';
export { relativeError, GPU_TOLERANCE } from './compare.js';
export { normalArray } from './random.js';
export {
  estimateMemory,
  formatBytes,
  MAX_TENSOR_ELEMENTS,
  type MemoryBackend,
  type MemoryEstimate,
} from './memory.js';
export * from './training/index.js';
export {
  prepareTraining,
  type PreparedTraining,
  type PrepareTrainingOptions,
} from './training/session.js';
export { initialTrainedWeights, streamSeed, type InitTarget } from './training/init/index.js';
export {
  createWebGpuTrainer,
  plannedBytes,
  WebGpuTrainer,
  type TrainingMemory,
  type WebGpuTrainerOptions,
} from './webgpu/training/index.js';
export {
  pythonJsonDump,
  SaveError,
  trainedDirectoryFiles,
  type SavedFile,
  type SaveTarget,
} from './adapterhub/save/index.js';
