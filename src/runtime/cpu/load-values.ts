import { inGroup } from '../ops/registry.js';
import type { Program } from '../program.js';
import { runCpuKernel } from './all-kernels.js';
import type { CpuTensor } from './kernels.js';

type LoadValues = ReadonlyMap<number, CpuTensor>;

const computed = new WeakMap<Program, WeakMap<ReadonlyMap<string, Float32Array>, LoadValues>>();

/**
 * The values of a program's load-time nodes (`weight_product`), by node id: computed from the
 * weights at the first run and kept for every later run with the same program and weights.
 */
export function loadTimeValues(
  program: Program,
  weights: ReadonlyMap<string, Float32Array>,
): LoadValues {
  let byWeights = computed.get(program);
  if (!byWeights) {
    byWeights = new WeakMap();
    computed.set(program, byWeights);
  }
  let values = byWeights.get(weights);
  if (!values) {
    values = computeLoadValues(program, weights);
    byWeights.set(weights, values);
  }
  return values;
}

function computeLoadValues(
  program: Program,
  weights: ReadonlyMap<string, Float32Array>,
): LoadValues {
  const values = new Map<number, CpuTensor>();
  const valueOf = (id: number): CpuTensor => {
    const node = program.nodes[id]!;
    const shape = node.shape as readonly number[];
    if (node.op === 'weight') return { data: weights.get(node.attrs.name)!, shape };
    const value = values.get(id);
    if (!value)
      throw new Error(`a load-time node reads node %${id}, neither a weight nor load-time`);
    return value;
  };
  for (const node of program.nodes) {
    if (node.op === 'input' || node.op === 'weight' || !inGroup(node.op, 'load')) continue;
    const shape = node.shape as readonly number[];
    const data = runCpuKernel(node, node.inputs.map(valueOf), shape);
    values.set(node.id, { data, shape });
  }
  return values;
}
