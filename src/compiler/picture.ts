import { formatProvenance, type Provenance, type ScopeKind } from '../runtime/ops/node.js';
import { attrList, attrStatements, KIND_COLORS } from './ir/dot.js';
import { printType } from './ir/print.js';
import type { IrGraph } from './ir/types.js';
import type { Composition, FusionSite, Model } from './model.js';

/**
 * A picture of a graph a person would rather look at than an op dump: the IR collapsed by scope
 * into one box per (layer, site, component): the base sublayer, each adapter, a fusion, a batch
 * select, the residual add (& LayerNorm), with the IR's data flow between boxes. Graphviz DOT,
 * top-down, one cluster per layer, a legend, and a title naming the model and the graph.
 */
export function graphPicture(model: Model, graphName: string, graph: IrGraph): string {
  const { boxes, edges } = collapse(graph);
  const all = [...boxes.values()];
  const covers = fusionCovers(model);
  // Side inputs (the mask, adapter_index) feed every layer: a note instead of a dozen long edges.
  const side = new Map<Box, string>();
  for (const [box, layers] of layersFed(edges)) {
    if (layers.size > 1) side.set(box, `(read in ${layers.size} layers)`);
  }
  const lines = [
    'digraph picture {',
    `  graph ${attrList({ ...GRAPH, label: title(model, graphName) })};`,
    `  node ${attrList(NODE)};`,
    `  edge ${attrList(EDGE)};`,
    ...legend(new Set(all.map((box) => box.kind))),
  ];
  for (const box of all.filter((b) => !b.scope)) {
    lines.push(`  ${box.id} ${attrList(boxAttrs(box, model, covers, side.get(box)))};`);
  }
  for (const [kind, rank] of [
    ['input', 'source'],
    ['output', 'sink'],
  ]) {
    const ids = all.filter((box) => box.kind === kind).map((box) => box.id);
    if (ids.length > 0) lines.push(`  { rank=${rank}; ${ids.join('; ')}; }`);
  }
  const byLayer = new Map<number, Box[]>();
  for (const box of all) {
    if (!box.scope) continue;
    const members = byLayer.get(box.scope.layer);
    if (members) members.push(box);
    else byLayer.set(box.scope.layer, [box]);
  }
  for (const layer of [...byLayer.keys()].sort((a, b) => a - b)) {
    for (const line of layerCluster(layer, byLayer.get(layer)!, model, covers)) lines.push(line);
  }
  for (const edge of edges) {
    if (!side.has(edge.from)) lines.push(`  ${edge.from.id} -> ${edge.to.id}${edgeStyle(edge)};`);
  }
  lines.push('}');
  return `${lines.join('\n')}\n`;
}

function title(model: Model, graphName: string): string {
  const spec = model.graphs.get(graphName);
  const { base } = model;
  const layers = `${base.layers} layer${base.layers === 1 ? '' : 's'}`;
  return [
    `${base.name} — graph '${graphName}'${spec ? ` = ${expression(spec.composition)}` : ''}`,
    `${layers}, hidden ${base.hidden}, ${base.heads} heads, ffn ${base.ffn}, ${base.norm}-LN`,
  ].join('\n');
}

/** One layer's boxes; a parallel adapter sits on the rank of the sublayer it runs beside. */
function layerCluster(
  layer: number,
  members: readonly Box[],
  model: Model,
  covers: FusionCovers,
): string[] {
  const lines = [
    `  subgraph cluster_layer${layer} {`,
    `    ${attrStatements({ ...LAYER, label: `layer ${layer}` })}`,
    ...members.map((box) => `    ${box.id} ${attrList(boxAttrs(box, model, covers))};`),
  ];
  const atSite = (kind: ScopeKind, site: string | undefined) =>
    members.find((b) => b.kind === kind && b.scope!.site === site && b.scope!.name === undefined);
  for (const box of members.filter((b) => b.kind === 'parallel')) {
    const base = atSite('base', box.scope!.site);
    if (base) lines.push(`    { rank=same; ${base.id}; ${box.id}; }`);
  }
  // Keep each residual add under its sublayer, whatever runs between them.
  for (const base of members.filter((b) => b.kind === 'base')) {
    const residual = atSite('residual', base.scope!.site);
    if (residual) lines.push(`    ${base.id} -> ${residual.id} [style=invis, weight=8];`);
  }
  lines.push('  }');
  return lines;
}

const FONT = 'Helvetica,Arial,sans-serif';
const GRAPH = {
  rankdir: 'TB',
  labelloc: 't',
  fontsize: 16,
  fontname: FONT,
  nodesep: 0.25,
  ranksep: 0.3,
  newrank: 'true',
};
const NODE = {
  fontname: FONT,
  fontsize: 11,
  shape: 'box',
  style: 'rounded,filled',
  margin: '0.15,0.05',
};
const EDGE = { color: '#546e7a', arrowsize: 0.6 };
const LAYER = {
  style: 'rounded,dashed',
  color: '#90a4ae',
  fontcolor: '#455a64',
  fontsize: 12,
  labeljust: 'l',
};

interface Box {
  readonly id: string;
  /** An IO box, or the kind of the scope it collapses (base for ops outside every scope). */
  readonly kind: 'input' | 'output' | ScopeKind;
  readonly scope?: Provenance;
  /** The IO name, for inputs and outputs. */
  readonly name?: string;
  readonly type?: string;
  readonly ops: Set<string>;
}

interface Edge {
  readonly from: Box;
  readonly to: Box;
}

/** Boxes in order of first appearance, and the deduplicated edges between different boxes. */
function collapse(graph: IrGraph): { boxes: Map<string, Box>; edges: Edge[] } {
  const boxes = new Map<string, Box>();
  const boxOf = new Map<number, Box>();
  const add = (key: string, make: (id: string) => Box) => {
    const box = boxes.get(key) ?? make(`b${boxes.size}`);
    boxes.set(key, box);
    return box;
  };
  for (const node of graph.nodes) {
    if (node.op === 'weight') continue;
    const { scope } = node;
    const box =
      node.op === 'input'
        ? add(`input:${node.attrs.name}`, (id) => ({
            id,
            kind: 'input',
            name: node.attrs.name,
            type: printType(node),
            ops: new Set(),
          }))
        : add(scope ? formatProvenance(scope) : `op:${node.op}`, (id) => ({
            id,
            kind: scope?.kind ?? 'base',
            ...(scope ? { scope } : {}),
            ops: new Set(),
          }));
    box.ops.add(node.op);
    boxOf.set(node.id, box);
  }
  const edges = new Map<string, Edge>();
  const link = (from: Box | undefined, to: Box) => {
    if (from && from !== to) edges.set(`${from.id}>${to.id}`, { from, to });
  };
  for (const node of graph.nodes) {
    const to = boxOf.get(node.id);
    if (to) for (const input of node.inputs) link(boxOf.get(input), to);
  }
  for (const output of graph.outputs) {
    const node = graph.nodes[output.node];
    const box = add(`output:${output.name}`, (id) => ({
      id,
      kind: 'output',
      name: output.name,
      ...(node ? { type: printType(node) } : {}),
      ops: new Set(),
    }));
    link(boxOf.get(output.node), box);
  }
  return { boxes, edges: [...edges.values()] };
}

/** The layers each input feeds; side inputs (the mask, adapter_index) feed more than one. */
function layersFed(edges: readonly Edge[]): Map<Box, Set<number>> {
  const fed = new Map<Box, Set<number>>();
  for (const { from, to } of edges) {
    if (from.kind !== 'input' || to.scope === undefined) continue;
    fed.set(from, (fed.get(from) ?? new Set()).add(to.scope.layer));
  }
  return fed;
}

const TRUNK = new Set(['base', 'residual', 'adapter', 'fusion', 'batch']);
/** Routed down the right-hand side, without pulling boxes out of line. */
const SKIP = {
  style: 'dashed',
  color: '#78909c',
  constraint: 'false',
  weight: 0,
  tailport: 'e',
  headport: 'e',
};

/** Skip connections (the residual stream into an add) are dashed; the trunk is kept straight. */
function edgeStyle({ from, to }: Edge): string {
  const skip =
    to.kind === 'residual' &&
    (from.scope?.layer !== to.scope?.layer || from.scope?.site !== to.scope?.site);
  if (skip) return ` ${attrList(SKIP)}`;
  return TRUNK.has(from.kind) && TRUNK.has(to.kind) ? ` ${attrList({ weight: 8 })}` : '';
}

function boxAttrs(
  box: Box,
  model: Model,
  covers: FusionCovers,
  note?: string,
): Record<string, string | number> {
  const colors = KIND_COLORS[box.kind === 'input' || box.kind === 'output' ? 'io' : box.kind];
  const paint = { fillcolor: colors.fill, color: colors.line };
  switch (box.kind) {
    case 'input':
    case 'output':
      return {
        label: [box.name, box.type, note].filter(Boolean).join('\n'),
        shape: 'ellipse',
        style: 'filled',
        ...paint,
      };
    case 'base':
      return {
        label: baseLabel(box, model),
        shape: 'box',
        style: 'filled',
        width: 2.2,
        fontsize: 12,
        group: 'trunk',
        ...paint,
      };
    case 'residual':
      return {
        // `input`: AdapterHub's LN(y + x) that an adapter reads (docs/language.md §4.7).
        label: `${box.ops.has('layer_norm') ? 'add & LayerNorm' : 'add'}${box.scope?.name === 'input' ? '\n(adapter input)' : ''}`,
        fontsize: 10,
        height: 0.3,
        group: 'trunk',
        ...paint,
      };
    case 'adapter':
    case 'parallel':
      return { label: adapterLabel(box, model), penwidth: 1.5, ...paint };
    case 'fusion':
      return {
        label: fusionLabel(box, covers),
        shape: 'hexagon',
        style: 'filled',
        penwidth: 1.5,
        ...paint,
      };
    case 'batch':
      return {
        label: 'batch select\nby adapter_index',
        shape: 'diamond',
        style: 'filled',
        fontsize: 10,
        ...paint,
      };
  }
}

function baseLabel(box: Box, model: Model): string {
  const { base } = model;
  const pre = base.norm === 'pre' ? 'LN → ' : '';
  if (box.scope?.site === 'attn') {
    const kind = base.attention === 'causal' ? 'causal self-attention' : 'self-attention';
    return `${pre}${kind}\n${base.heads} heads`;
  }
  if (box.scope?.site === 'ffn') {
    return `${pre}feed-forward\n${base.hidden} → ${base.ffn} → ${base.hidden}, ${base.activation}`;
  }
  return [...box.ops].join(', ');
}

function adapterLabel(box: Box, model: Model): string {
  const name = box.scope?.name ?? '?';
  const adapter = model.adapters.get(name);
  if (!adapter) return name;
  const details = [`r=${adapter.bottleneck}`, adapter.activation];
  if (adapter.scale !== 1) details.push(`scale ${adapter.scale}`);
  return `${box.kind === 'parallel' ? `${name} ∥` : name}\n${details.join(', ')}`;
}

/** Each fusion's covered sites, by `name layer/site`. */
type FusionCovers = ReadonlyMap<string, FusionSite>;

const coverKey = (name: string, layer: number | undefined, site: string | undefined) =>
  `${name} ${layer}/${site}`;

function fusionCovers(model: Model): FusionCovers {
  const covers = new Map<string, FusionSite>();
  for (const fusion of model.fusions.values()) {
    for (const cover of fusion.covers)
      covers.set(coverKey(fusion.name, cover.layer, cover.site), cover);
  }
  return covers;
}

function fusionLabel(box: Box, covers: FusionCovers): string {
  const name = box.scope?.name ?? '?';
  const cover = covers.get(coverKey(name, box.scope?.layer, box.scope?.site));
  return cover ? `fusion ${name}\n(${cover.members.length} adapters)` : `fusion ${name}`;
}

/** A composition as graph-expression text: `stack(ner, sentiment)`, `average(a: 0.7, b: 0.3)`. */
function expression(composition: Composition): string {
  switch (composition.kind) {
    case 'adapter':
    case 'fusion':
      return composition.name;
    case 'stack':
      return `stack(${composition.items.map(expression).join(', ')})`;
    case 'average':
      return `average(${composition.items.map((i) => `${i.name}: ${Number(i.weight.toPrecision(6))}`).join(', ')})`;
    case 'batch':
      return `batch(${composition.branches.map(expression).join(', ')})`;
    case 'parallel':
      return `parallel(${composition.branches.map(expression).join(', ')})`;
  }
}

const LEGEND: readonly { kind: ScopeKind; label: string }[] = [
  { kind: 'base', label: 'base sublayer\n(frozen)' },
  { kind: 'adapter', label: 'adapter\n(sequential)' },
  { kind: 'parallel', label: 'adapter ∥\n(parallel)' },
  { kind: 'fusion', label: 'fusion' },
  { kind: 'batch', label: 'batch\nselect' },
  { kind: 'residual', label: 'residual\nadd' },
];

/** A legend cluster with one sample box per kind the picture uses, in a row. */
function legend(kinds: ReadonlySet<string>): string[] {
  const shown = LEGEND.filter((entry) => kinds.has(entry.kind));
  const shapes: Record<string, Record<string, string | number>> = {
    base: { shape: 'box', style: 'filled' },
    fusion: { shape: 'hexagon', style: 'filled' },
    batch: { shape: 'diamond', style: 'filled' },
  };
  const ids = shown.map((entry) => `legend_${entry.kind}`);
  return [
    '  subgraph cluster_legend {',
    `    ${attrStatements({ label: 'legend', style: 'rounded', color: '#cfd8dc', fontsize: 10, fontcolor: '#607d8b' })}`,
    ...shown.map((entry, i) => {
      const colors = KIND_COLORS[entry.kind];
      const attrs = {
        label: entry.label,
        fontsize: 9,
        fillcolor: colors.fill,
        color: colors.line,
        ...shapes[entry.kind],
      };
      return `    ${ids[i]} ${attrList(attrs)};`;
    }),
    `    { rank=same; ${ids.join('; ')}; }`,
    ...(ids.length > 1 ? [`    ${ids.join(' -> ')} [style=invis];`] : []),
    '  }',
  ];
}
