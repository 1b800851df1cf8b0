import type { DiagnosticBag } from '../../diagnostics.js';
import {
  isAdapterAt,
  SITES,
  type AdapterSpec,
  type BaseModel,
  type Composition,
  type FusionSpec,
  type GraphSpec,
  type PredictionHeadSpec,
} from '../../model.js';
import { usesAdapterHub } from '../../lower/adapterhub-mode.js';

/**
 * What AdapterHub semantics need of the rest of the file: a post-LN model (the fields name the
 * model's own LayerNorm after each sublayer), fusions of their own kind, and a pooler for a head
 * that reads one.
 */
export function checkHubFit(
  base: BaseModel,
  adapters: ReadonlyMap<string, AdapterSpec>,
  fusions: ReadonlyMap<string, FusionSpec>,
  heads: ReadonlyMap<string, PredictionHeadSpec>,
  graphs: ReadonlyMap<string, GraphSpec>,
  bag: DiagnosticBag,
): void {
  for (const graph of graphs.values()) checkHubGraph(graph, base, adapters, fusions, bag);
  if (base.norm === 'pre') {
    for (const adapter of adapters.values()) {
      if (adapter.semantics !== 'adapterhub') continue;
      bag.report(
        'E0122',
        adapter.span,
        `adapter '${adapter.name}' has AdapterHub's semantics, which adaptc runs on post-LN models only; '${base.name}' is pre-LN`,
        "AdapterHub's fields place the adapter around the LayerNorm after each sublayer (BERT, RoBERTa, DistilBERT)",
      );
    }
  }
  for (const fusion of fusions.values()) {
    if (fusion.hub) continue;
    const hub = fusion.adapters.filter((name) => adapters.get(name)?.semantics === 'adapterhub');
    if (hub.length === 0) continue;
    bag.report(
      'E0305',
      fusion.span,
      `fusion '${fusion.name}' is the article's, but ${hub.map((n) => `'${n}'`).join(', ')} ${hub.length > 1 ? 'are' : 'is'} AdapterHub's`,
      "write 'preset dynamic' (or 'static') for AdapterHub's fusion, or read it with fusion NAME from \"DIR\"",
    );
  }
  const family = base.checkpoint?.family;
  for (const head of heads.values()) {
    if (!head.usePooler || family === 'bert' || family === 'roberta') continue;
    bag.report(
      'E0122',
      head.span,
      `head '${head.name}' reads the pooler (use_pooler true), which ${family === undefined ? 'a model without a checkpoint' : `a ${family} checkpoint`} does not have`,
      'BERT and RoBERTa checkpoints have one (pooler.dense)',
    );
  }
}

/**
 * What the adapters library refuses in a composition, where adaptc would otherwise compute
 * something of its own: a fusion inside Parallel (`ALLOWED_NESTINGS`), and an Average where
 * some but not all of several members sit at a site (its mean broadcasts N weights over the
 * outputs there, which fails for 1 < k < N).
 */
function checkHubGraph(
  graph: GraphSpec,
  base: BaseModel,
  adapters: ReadonlyMap<string, AdapterSpec>,
  fusions: ReadonlyMap<string, FusionSpec>,
  bag: DiagnosticBag,
): void {
  const { composition } = graph;
  if (!graph.span || !usesAdapterHub({ adapters, fusions }, composition)) return;
  if (composition.kind === 'parallel') {
    const fusion = composition.branches.find((branch) => branch.kind === 'fusion');
    if (fusion)
      bag.report(
        'E0405',
        graph.span,
        `graph '${graph.name}': AdapterHub's Parallel runs adapters, not the fusion '${fusion.name}'`,
        'the adapters library allows a name, Stack, BatchSplit or Average inside Parallel, not Fuse',
      );
  }
  const averages: { name: string }[][] = [];
  const collect = (node: Composition): void => {
    if (node.kind === 'average') averages.push([...node.items]);
    if (node.kind === 'stack') node.items.forEach(collect);
    if (node.kind === 'batch' || node.kind === 'parallel') node.branches.forEach(collect);
  };
  collect(composition);
  for (const items of averages) {
    for (let layer = 0; layer < base.layers; layer++) {
      for (const site of SITES) {
        const present = items.filter((item) => isAdapterAt(adapters.get(item.name)!, layer, site));
        if (present.length <= 1 || present.length === items.length) continue;
        bag.report(
          'E0122',
          graph.span,
          `graph '${graph.name}': at ${site} in layer ${layer}, ${present.length} of the ${items.length} averaged adapters are present (${present.map((p) => `'${p.name}'`).join(', ')}); the adapters library cannot average them there`,
          'its mean multiplies the outputs present by all N weights, which fails unless one or all are there: give the adapters the same sites and layers',
        );
        return;
      }
    }
  }
}
