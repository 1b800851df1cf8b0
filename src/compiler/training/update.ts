import type { WeightSpec, WeightUpload } from '../../runtime/program.js';
import { adamwMomentsKernel, adamwParamKernel } from '../codegen/backward/adamw.js';
import { fixedGroups } from '../codegen/backward/common.js';
import { partElements, refreshKernel } from '../codegen/backward/refresh.js';
import type { KernelList } from './kernel-list.js';
import type { TrainedTensor, TrainingBinding, TrainingDispatch } from './types.js';

/**
 * After the backward pass: AdamW per trained tensor (the moments, then the parameter), then
 * every part of an upload that holds a trained weight copied from it, as the forward kernels
 * read it (transposed, a window of columns).
 */
export function updateDispatches(
  trained: readonly TrainedTensor[],
  uploads: readonly WeightUpload[],
  weightSpecs: ReadonlyMap<string, WeightSpec>,
  kernels: KernelList,
): TrainingDispatch[] {
  const tensorOf = new Map(trained.map((t, i) => [t.name, i]));
  const update: TrainingDispatch[] = [];
  trained.forEach((t, tensor) => {
    const part = (p: 'param' | 'grad' | 'moments' | 'hyper'): TrainingBinding => ({
      space: 'trained',
      tensor,
      part: p,
    });
    update.push(
      {
        kernel: kernels.indexOf(adamwMomentsKernel(t.elements)),
        label: `${t.name} AdamW moments`,
        bindings: [part('hyper'), part('grad'), part('moments')],
        groups: fixedGroups(t.elements),
      },
      {
        kernel: kernels.indexOf(adamwParamKernel(t.elements)),
        label: `${t.name} AdamW`,
        bindings: [part('hyper'), part('moments'), part('param')],
        groups: fixedGroups(t.elements),
      },
    );
  });
  uploads.forEach((upload, index) => {
    let offset = 0;
    for (const part of upload.parts) {
      const shape = weightSpecs.get(part.weight)!.shape;
      const tensor = tensorOf.get(part.weight);
      if (tensor !== undefined) {
        const kernel = refreshKernel(shape, part, offset);
        update.push({
          kernel: kernels.indexOf(kernel),
          label: `${part.weight} into weights ${index}`,
          bindings: [
            { space: 'trained', tensor, part: 'param' },
            { space: 'upload', upload: index },
          ],
          groups: fixedGroups(kernel.elements),
        });
      }
      offset += partElements(shape, part);
    }
  });
  return update;
}
