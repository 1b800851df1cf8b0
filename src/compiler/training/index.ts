/** The training plan for WebGPU: what one step runs, keeps and takes (docs/training-webgpu.md). */
export { planTraining, type TrainingPlanOptions } from './plan.js';
export { plannedBytes, type TrainingMemory } from '../../runtime/webgpu/training/planned-bytes.js';
export { nodesNeedingGradient } from './gradient-nodes.js';
export type {
  TrainedPart,
  TrainedTensor,
  TrainingBinding,
  TrainingDispatch,
  TrainingPlan,
} from './types.js';
