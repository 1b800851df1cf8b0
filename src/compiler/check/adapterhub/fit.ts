import type { DiagnosticBag } from '../../diagnostics.js';
import type { AdapterSpec, BaseModel, FusionSpec, PredictionHeadSpec } from '../../model.js';

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
  bag: DiagnosticBag,
): void {
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
