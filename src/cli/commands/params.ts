import { countParams, SITES, type Model, type ParamReport } from '../../compiler/index.js';
import { EXIT, type CliIO } from '../io.js';
import { loadModel } from '../load-model.js';
import { formatTable, percent, thousands } from '../table.js';

export interface ParamsOptions {
  readonly graph: string;
  readonly json: boolean;
}

/** `adapt params <file> [--graph G] [--json]`. */
export function runParams(io: CliIO, file: string, options: ParamsOptions): number {
  const model = loadModel(io, file, options.graph);
  const report = countParams(model, options.graph);
  if (options.json) {
    io.stdout(`${JSON.stringify(report, null, 2)}\n`);
    return EXIT.ok;
  }
  const placements = new Map(
    [...model.adapters.values()].map((a) => [
      a.name,
      SITES.filter((s) => a.placements[s]).map((s) =>
        a.placements[s] === 'parallel' ? `${s}∥` : s,
      ),
    ]),
  );
  io.stdout(`${renderParams(report, placements, model.base.checkpoint)}\n`);
  return EXIT.ok;
}

type Checkpoint = NonNullable<Model['base']['checkpoint']>;
type AdapterParams = ParamReport['adapters'][number];

/** What a checkpoint's head holds, by its layout (docs/design.md §3). */
const HEAD_PARTS: Readonly<Record<NonNullable<Checkpoint['head']>['layout'], string>> = {
  pooler: 'head (pooler.dense, classifier)',
  'dense-tanh': 'head (classifier.dense, classifier.out_proj)',
  'pre-classifier-relu': 'head (pre_classifier, classifier)',
  token: 'head (classifier, per token)',
  'tied-embeddings': 'head (tied to wte.weight)',
};

/** The tables of an embeddings row: word and position, token types and a LayerNorm where the family has them. */
function embeddingParts(checkpoint: Checkpoint): string {
  const parts = ['word', 'position'];
  if (checkpoint.typeVocab > 0) parts.push('token type');
  if (checkpoint.embeddingEps !== undefined) parts.push('LayerNorm');
  return `embeddings (${parts.join(', ')})`;
}

/** r, and the layers whose r differs (AdapterHub's per-layer reduction factors): `8 (L0: 4)`. */
function bottleneckText(adapter: AdapterParams): string {
  const differing = Object.entries(adapter.layerBottlenecks ?? {});
  if (differing.length === 0) return String(adapter.bottleneck);
  return `${adapter.bottleneck} (${differing.map(([layer, r]) => `L${layer}: ${r}`).join(', ')})`;
}

/** The sum of an adapter's LayerNorms, learned scaling and gate, over its placements. */
const extrasTotal = (adapter: AdapterParams) =>
  adapter.extras ? adapter.extras.layerNorms + adapter.extras.scaling + adapter.extras.gate : 0;

function adapterTable(report: ParamReport, sites: ReadonlyMap<string, string[]>): string {
  // The column of AdapterHub's LayerNorms, scalings and gates, only where an adapter has them.
  const withExtras = report.adapters.some((a) => a.extras);
  return formatTable(
    [
      'adapter',
      'r',
      'sites',
      'per placement',
      'placements',
      'down',
      'up',
      ...(withExtras ? ['norms, scaling, gate'] : []),
      'total',
      'of base',
    ],
    report.adapters.map((a) => [
      a.name,
      bottleneckText(a),
      (sites.get(a.name) ?? []).join(','),
      thousands(a.perPlacement),
      String(a.placements),
      thousands(a.down),
      thousands(a.up),
      ...(withExtras ? [thousands(extrasTotal(a))] : []),
      thousands(a.total),
      percent((100 * a.total) / report.base.total),
    ]),
  );
}

function baseRows(report: ParamReport, checkpoint: Checkpoint | undefined): string[][] {
  const { base } = report;
  const layerCount = report.layers.length;
  const rows = [
    ['attention (Q, K, V, output)', thousands(base.attention)],
    ['feed-forward', thousands(base.ffn)],
    ['layer norms', thousands(base.layerNorms)],
    ['one layer', thousands(base.perLayer)],
    [`${layerCount} layer${layerCount === 1 ? '' : 's'}`, thousands(base.perLayer * layerCount)],
  ];
  const counts = base.checkpoint;
  if (!checkpoint || !counts) return rows;
  rows.push([embeddingParts(checkpoint), thousands(counts.embeddings)]);
  if (counts.finalLayerNorm > 0)
    rows.push(['final LayerNorm (ln_f)', thousands(counts.finalLayerNorm)]);
  if (counts.replacedBy) {
    // The AdapterHub head's own row follows; of the checkpoint's head only the pooler is read.
    const { name, usesPooler } = counts.replacedBy;
    if (usesPooler)
      rows.push([`pooler (pooler.dense, read by head ${name})`, thousands(counts.head)]);
    else if (checkpoint.head) rows.push([`head (replaced by head ${name})`, '0']);
  } else if (checkpoint.head)
    rows.push([HEAD_PARTS[checkpoint.head.layout], thousands(counts.head)]);
  rows.push(['in all', thousands(base.total)]);
  return rows;
}

/** The head a checkpoint spec ends in, for the title line. */
function headScope(report: ParamReport, checkpoint: Checkpoint): string {
  if (report.heads.length > 0)
    return `AdapterHub head${report.heads.length > 1 ? 's' : ''} ${report.heads.map((h) => h.name).join(', ')}`;
  return checkpoint.head ? 'head' : 'no head';
}

export function renderParams(
  report: ParamReport,
  sites: ReadonlyMap<string, string[]>,
  checkpoint?: Checkpoint,
): string {
  const { base, totals } = report;
  const layerCount = report.layers.length;
  const layers = `${layerCount} layer${layerCount === 1 ? '' : 's'}`;
  const scope = checkpoint
    ? `${layers} of the ${checkpoint.family} checkpoint ${checkpoint.dir}, with its embeddings${base.checkpoint?.finalLayerNorm ? ', final LayerNorm' : ''} and ${headScope(report, checkpoint)}`
    : `${layers} (encoder layers only; no embeddings)`;
  const out: string[] = [
    `${report.model}, graph '${report.graph}': ${scope}`,
    '',
    formatTable(
      checkpoint ? ['base', 'params'] : ['base, per layer', 'params'],
      baseRows(report, checkpoint),
    ),
  ];
  if (report.adapters.length > 0) out.push('', adapterTable(report, sites));
  if (report.fusions.length > 0) {
    out.push(
      '',
      formatTable(
        ['fusion', 'sites', 'per site', 'total'],
        report.fusions.map((f) => [
          f.name,
          String(f.sites),
          thousands(f.perSite),
          thousands(f.total),
        ]),
      ),
    );
  }
  if (report.heads.length > 0) {
    out.push(
      '',
      formatTable(
        ['head', 'type', 'layers', 'labels', 'total'],
        report.heads.map((head) => [
          head.name,
          head.type,
          String(head.layers),
          String(head.labels),
          thousands(head.total),
        ]),
      ),
    );
  }
  out.push(
    '',
    formatTable(
      ['layer', 'base', 'adapters', 'fusion'],
      report.layers.map((l) => [
        String(l.layer),
        thousands(l.base),
        thousands(l.adapters),
        thousands(l.fusion),
      ]),
    ),
    '',
    formatTable(
      ['totals', 'params', ''],
      [
        ['base (frozen)', thousands(totals.base), ''],
        [
          'adapters',
          thousands(totals.adapters),
          `${percent(totals.adaptersPercentOfBase)} of base`,
        ],
        ['fusion', thousands(totals.fusion), ''],
        ...(report.heads.length > 0 ? [['head', thousands(totals.head), '']] : []),
        [
          'trainable',
          thousands(totals.trainable),
          `${percent(totals.trainablePercentOfTotal)} of total`,
        ],
        ['total', thousands(totals.total), ''],
      ],
    ),
  );
  return out.join('\n');
}
