import { writeFileSync } from 'node:fs';
import { fillWeightNormal } from '../../src/runtime/random.js';
import { saveSafetensors, type SafetensorsEntry } from '../../src/runtime/safetensors.js';

/** The shapes of a file's tensors, by name, and how each is drawn. */
export type TensorPlan = readonly (readonly [name: string, shape: readonly number[], fill: Fill])[];

/** Seeded normal values of this standard deviation, or every value the constant. */
export type Fill = { readonly std: number } | { readonly constant: number };

const count = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);

/** Writes the plan's tensors as safetensors; tensor i is drawn from stream `seed + i`. */
export function writeSeededTensors(file: string, plan: TensorPlan, seed: number): void {
  const entries = plan.map(([name, shape, fill], i): [string, SafetensorsEntry] => {
    const data = new Float32Array(count(shape));
    if ('std' in fill) fillWeightNormal(data, seed + i, fill.std);
    else data.fill(fill.constant);
    return [name, { shape, data }];
  });
  writeFileSync(file, saveSafetensors(entries, { format: 'pt' }));
}
