import { checkAttrs } from '../../runtime/ops/attr-schema.js';
import { isOpName, opDef } from '../../runtime/ops/registry.js';
import type { IrGraph, Shape } from './types.js';

const show = (shape: Shape) => `[${shape.join(',')}]`;

/**
 * Checks the invariants every pass must keep: ids equal positions, inputs refer to earlier nodes,
 * arity and attribute types match the op registry, stored shapes equal the shape rule's, weights and
 * inputs are declared, outputs exist. Returns the problems found (empty when valid).
 */
export function verifyGraph(graph: IrGraph): string[] {
  const problems: string[] = [];
  const weightNames = new Set(graph.weights.map((w) => w.name));
  const inputNodes = new Set(graph.inputs.map((i) => i.node));
  graph.nodes.forEach((node, index) => {
    const where = `node %${node.id} (${node.op})`;
    const before = problems.length;
    if (node.id !== index) problems.push(`${where}: id differs from its position ${index}`);
    if (!isOpName(node.op)) {
      problems.push(`${where}: unknown op`);
      return;
    }
    const info = opDef(node.op);
    if (info.variadic ? node.inputs.length < info.arity : node.inputs.length !== info.arity) {
      problems.push(
        `${where}: ${node.inputs.length} inputs, expected ${info.variadic ? 'at least ' : ''}${info.arity}`,
      );
    }
    try {
      checkAttrs(node.op, info.attrs, node.attrs, 'attrs');
    } catch (error) {
      problems.push(`${where}: ${(error as Error).message}`);
    }
    for (const input of node.inputs) {
      if (!(input >= 0 && input < index))
        problems.push(`${where}: input %${input} is not an earlier node`);
    }
    if (node.op === 'weight' && !weightNames.has(node.attrs.name)) {
      problems.push(`${where}: weight '${String(node.attrs.name)}' is not in the weight list`);
    }
    if (node.op === 'input' && !inputNodes.has(node.id)) {
      problems.push(`${where}: input '${String(node.attrs.name)}' is not in the input list`);
    }
    if (!info.shape || problems.length > before) return;
    const expected = info.shape(
      node.inputs.map((i) => graph.nodes[i]!.shape),
      node.attrs,
    );
    if (typeof expected === 'string') problems.push(`${where}: ${expected}`);
    else if (show(expected) !== show(node.shape)) {
      problems.push(`${where}: shape ${show(node.shape)}, but its inputs give ${show(expected)}`);
    }
  });
  for (const output of graph.outputs) {
    if (!graph.nodes[output.node])
      problems.push(`output '${output.name}' refers to missing node %${output.node}`);
  }
  const weightsRead = new Set<unknown>();
  for (const node of graph.nodes) if (node.op === 'weight') weightsRead.add(node.attrs.name);
  for (const weight of graph.weights) {
    if (!weightsRead.has(weight.name)) problems.push(`weight '${weight.name}' is read by no node`);
  }
  return problems;
}
