import { formatProvenance, type ScopeKind } from '../../runtime/ops/node.js';
import { printAttrs, printType } from './print.js';
import type { IrGraph, IrNode } from './types.js';

/** Fill and border colors per scope kind, shared by the op-level graph and the picture. */
export const KIND_COLORS: Readonly<Record<ScopeKind | 'io', { fill: string; line: string }>> = {
  base: { fill: '#eeeeee', line: '#757575' },
  residual: { fill: '#ffffff', line: '#9e9e9e' },
  adapter: { fill: '#c8e6c9', line: '#2e7d32' },
  parallel: { fill: '#bbdefb', line: '#1565c0' },
  fusion: { fill: '#ffe0b2', line: '#e65100' },
  batch: { fill: '#e1bee7', line: '#6a1b9a' },
  io: { fill: '#fff9c4', line: '#9e9d24' },
};

/** A DOT string literal. */
export function quote(text: string): string {
  return `"${text.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`;
}

/** `name=value` pairs as a DOT attribute list; values are quoted. */
export function attrList(attrs: Readonly<Record<string, string | number>>): string {
  const pairs = Object.entries(attrs).map(([key, value]) =>
    typeof value === 'number' ? `${key}=${value}` : `${key}=${quote(value)}`,
  );
  return `[${pairs.join(', ')}]`;
}

/** Graph or cluster attributes as statements: `label="L3"; style="rounded";`. */
export function attrStatements(attrs: Readonly<Record<string, string | number>>): string {
  return Object.entries(attrs)
    .map(([key, value]) => `${key}=${typeof value === 'number' ? value : quote(value)};`)
    .join(' ');
}

/** A weight name without its layer prefix: `encoder.layer.3.output.dense.weight` → `output.dense.weight`. */
function shortWeight(name: string): string {
  return name.replace(/^(?:[a-z]+\.)?encoder\.layer\.\d+\./, '');
}

/**
 * The whole op-level graph in Graphviz DOT, top-down, one cluster per layer; weights are not
 * nodes but are named in the label of the op that reads them. Deterministic: nodes in id order.
 */
export function graphToDot(graph: IrGraph): string {
  const byId = new Map(graph.nodes.map((node) => [node.id, node]));
  const layers = new Map<number, IrNode[]>();
  const outside: IrNode[] = [];
  for (const node of graph.nodes) {
    if (node.op === 'weight') continue;
    const layer = node.scope?.layer;
    if (layer === undefined) outside.push(node);
    else if (layers.has(layer)) layers.get(layer)!.push(node);
    else layers.set(layer, [node]);
  }
  const nodeLine = (node: IrNode) => {
    const colors = KIND_COLORS[node.op === 'input' ? 'io' : (node.scope?.kind ?? 'base')];
    const tooltip = node.scope ? formatProvenance(node.scope) : node.op;
    return `  n${node.id} ${attrList({ label: label(node, byId), fillcolor: colors.fill, color: colors.line, tooltip })};`;
  };
  const lines = [
    'digraph ir {',
    '  graph [rankdir=TB, fontname="Helvetica,Arial,sans-serif", nodesep=0.15, ranksep=0.25];',
    '  node [shape=box, style="rounded,filled", fontname="Helvetica,Arial,sans-serif", fontsize=9, height=0.3];',
    '  edge [arrowsize=0.5, color="#616161"];',
    ...outside.map(nodeLine),
  ];
  for (const layer of [...layers.keys()].sort((a, b) => a - b)) {
    lines.push(`  subgraph cluster_L${layer} {`);
    lines.push(`    ${attrStatements({ label: `L${layer}`, style: 'rounded', color: '#bdbdbd' })}`);
    for (const node of layers.get(layer)!) lines.push(`  ${nodeLine(node)}`);
    lines.push('  }');
  }
  graph.outputs.forEach((output, i) => {
    const node = byId.get(output.node);
    const text = `output ${output.name}${node ? `\n${printType(node)}` : ''}`;
    const colors = KIND_COLORS.io;
    lines.push(
      `  out${i} ${attrList({ label: text, shape: 'ellipse', fillcolor: colors.fill, color: colors.line })};`,
    );
  });
  for (const node of graph.nodes) {
    for (const input of node.inputs) {
      if (byId.get(input)?.op !== 'weight') lines.push(`  n${input} -> n${node.id};`);
    }
  }
  graph.outputs.forEach((output, i) => lines.push(`  n${output.node} -> out${i};`));
  lines.push('}');
  return `${lines.join('\n')}\n`;
}

function label(node: IrNode, byId: ReadonlyMap<number, IrNode>): string {
  if (node.op === 'input') return `${node.attrs.name}\n${printType(node)}`;
  const weights = node.inputs.flatMap((id) => {
    const input = byId.get(id);
    return input?.op === 'weight' ? [`@${shortWeight(input.attrs.name)}`] : [];
  });
  const attrs = printAttrs(node.attrs).trim();
  return [`%${node.id} ${node.op}`, ...weights, ...(attrs ? [attrs] : []), printType(node)].join(
    '\n',
  );
}
