import { countParams, SITES, type ParamReport } from '../../compiler/index.js';
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
  io.stdout(`${renderParams(report, placements)}\n`);
  return EXIT.ok;
}

export function renderParams(report: ParamReport, sites: ReadonlyMap<string, string[]>): string {
  const { base, totals } = report;
  const layerCount = report.layers.length;
  const out: string[] = [
    `${report.model}, graph '${report.graph}': ${layerCount} layer${layerCount === 1 ? '' : 's'} (encoder layers only; no embeddings)`,
    '',
    formatTable(
      ['base, per layer', 'params'],
      [
        ['attention (Q, K, V, output)', thousands(base.attention)],
        ['feed-forward', thousands(base.ffn)],
        ['layer norms', thousands(base.layerNorms)],
        ['one layer', thousands(base.perLayer)],
        [`${layerCount} layer${layerCount === 1 ? '' : 's'}`, thousands(base.total)],
      ],
    ),
  ];
  if (report.adapters.length > 0) {
    out.push(
      '',
      formatTable(
        ['adapter', 'r', 'sites', 'per placement', 'placements', 'down', 'up', 'total', 'of base'],
        report.adapters.map((a) => [
          a.name,
          String(a.bottleneck),
          (sites.get(a.name) ?? []).join(','),
          thousands(a.perPlacement),
          String(a.placements),
          thousands(a.down),
          thousands(a.up),
          thousands(a.total),
          percent((100 * a.total) / base.total),
        ]),
      ),
    );
  }
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
