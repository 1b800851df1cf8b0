import { formatProvenance, sameProvenance, type Provenance } from '../../runtime/ops/node.js';
import type { AttrValue, IrGraph, IrNode, Shape } from './types.js';

/**
 * The IR as readable, deterministic text: a header with the graph's inputs, outputs and weights,
 * then one line per node in topological order, e.g.
 * `%12 = matmul(%10, @encoder.layer.0.attention.self.query.weight) : f32[B,T,768]`.
 * Weight nodes get no line of their own: their uses name them as `@name`. A `# scope` comment
 * line precedes each run of nodes from one scope (`# L3/ffn/adapter:sentiment`).
 */
export function printGraph(graph: IrGraph): string {
  const byId = new Map(graph.nodes.map((node) => [node.id, node]));
  const operand = (id: number): string => {
    const node = byId.get(id);
    return node?.op === 'weight' ? `@${node.attrs.name}` : `%${id}`;
  };
  const lines = header(graph, byId);
  let scope: Provenance | undefined;
  for (const node of graph.nodes) {
    if (node.op === 'weight') continue;
    if (node.scope !== undefined && !sameProvenance(node.scope, scope)) {
      lines.push(`# ${formatProvenance(node.scope)}`);
    }
    scope = node.scope;
    lines.push(printNode(node, operand));
  }
  for (const output of graph.outputs) {
    lines.push(`output "${output.name}" = ${operand(output.node)}`);
  }
  return `${lines.join('\n')}\n`;
}

function header(graph: IrGraph, byId: ReadonlyMap<number, IrNode>): string[] {
  const typed = (id: number) => {
    const node = byId.get(id);
    return node ? ` : ${printType(node)}` : '';
  };
  const inputs = graph.inputs.map(
    (input) =>
      `%${input.node} ${input.name}${typed(input.node)}${input.optional ? ' (optional)' : ''}`,
  );
  const outputs = graph.outputs.map(
    (output) => `%${output.node} ${output.name}${typed(output.node)}`,
  );
  const parameters = graph.weights.reduce(
    (sum, weight) => sum + weight.shape.reduce((product, dim) => product * dim, 1),
    0,
  );
  const ops = graph.nodes.filter((node) => node.op !== 'weight').length;
  return [
    `# inputs:  ${inputs.join(', ') || '(none)'}`,
    `# outputs: ${outputs.join(', ') || '(none)'}`,
    `# weights: ${graph.weights.length} tensors, ${groupDigits(parameters)} parameters`,
    `# nodes:   ${ops} (not counting weights)`,
  ];
}

function printNode(node: IrNode, operand: (id: number) => string): string {
  const type = printType(node);
  if (node.op === 'input')
    return `%${node.id} = input ${JSON.stringify(node.attrs.name)} : ${type}`;
  const args = node.inputs.map(operand).join(', ');
  return `%${node.id} = ${node.op}(${args})${printAttrs(node.attrs)} : ${type}`;
}

export function printType(node: { readonly dtype: string; readonly shape: Shape }): string {
  return `${node.dtype}[${node.shape.join(',')}]`;
}

/** `{causal=false, heads=12}`: keys sorted, so the text does not depend on insertion order. */
export function printAttrs(attrs: Readonly<Record<string, AttrValue>>): string {
  const keys = Object.keys(attrs).sort();
  if (keys.length === 0) return '';
  return ` {${keys.map((key) => `${key}=${printAttrValue(attrs[key]!)}`).join(', ')}}`;
}

function printAttrValue(value: AttrValue): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return `[${value.join(',')}]`;
}

/** 85054464 → `85,054,464`, independent of the locale. */
export function groupDigits(n: number): string {
  return String(n).replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}
