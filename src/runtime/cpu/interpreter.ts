import type { PreparedInputs } from '../inputs.js';
import type { Program, ProgramNode } from '../program.js';
import { resolveShape, type HostTensor } from '../tensor.js';
import { runCpuKernel } from './all-kernels.js';
import type { CpuTensor } from './kernels.js';
import { lastUses } from './liveness.js';
import { loadTimeValues } from './load-values.js';

/**
 * Runs a program's graph node by node on the CPU. `observe` sees every computed value, e.g. the
 * fusion attention weights α that a playground draws. Load-time nodes are computed once per
 * program and weights (load-values.ts), not on every run.
 */
export function interpret(
  program: Program,
  weights: ReadonlyMap<string, Float32Array>,
  inputs: PreparedInputs,
  observe?: (node: ProgramNode, value: CpuTensor) => void,
): Record<string, HostTensor> {
  const values: (CpuTensor | undefined)[] = new Array(program.nodes.length);
  const last = lastUses(program);
  const loaded = loadTimeValues(program, weights);
  for (const node of program.nodes) {
    const shape = resolveShape(node.shape, inputs.batch, inputs.seq);
    if (node.op === 'input') {
      values[node.id] = { data: inputs.values.get(node.attrs.name)!, shape };
    } else if (node.op === 'weight') {
      values[node.id] = { data: weights.get(node.attrs.name)!, shape };
    } else if (loaded.has(node.id)) {
      values[node.id] = loaded.get(node.id)!;
    } else {
      const args = node.inputs.map((id) => values[id]!);
      values[node.id] = { data: runCpuKernel(node, args, shape), shape };
      observe?.(node, values[node.id]!);
    }
    for (const input of node.inputs) if (last[input] === node.id) values[input] = undefined;
  }
  const outputs: Record<string, HostTensor> = {};
  for (const output of program.outputs) {
    const value = values[output.node]!;
    outputs[output.name] = { data: value.data, shape: value.shape };
  }
  return outputs;
}
