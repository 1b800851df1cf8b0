export {
  Runtime,
  type BackendName,
  type LoadedModel,
  type RunOutputs,
  type RuntimeOptions,
} from './runtime.js';
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
export type { RunInputs, RunOptions } from './inputs.js';
export type { HostTensor } from './tensor.js';
export type { Program, ProgramNode, WeightSpec } from './program.js';
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
export { prepareInputs, randomInputs } from './inputs.js';
export { relativeError, GPU_TOLERANCE } from './compare.js';
export { normalArray } from './random.js';
export {
  estimateMemory,
  formatBytes,
  MAX_TENSOR_ELEMENTS,
  type MemoryBackend,
  type MemoryEstimate,
} from './memory.js';
