import { instance } from '@viz-js/viz';
import {
  compile,
  countParams,
  graphPicture,
  lowerModel,
  type FrontendResult,
  type Model,
  type Program,
} from '../../../src/compiler/index.js';
import { readSpecFile } from './spec-files.js';

export function element<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  text?: string,
  className?: string,
): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  if (text !== undefined) node.textContent = text;
  if (className) node.className = className;
  return node;
}

/** Diagnostics as the CLI prints them: file:line:col: error[CODE]: message, then help. */
export function renderDiagnostics(
  target: HTMLElement,
  result: FrontendResult,
  onSelect: (from: number, to: number) => void,
): void {
  target.replaceChildren();
  if (result.diagnostics.length === 0) {
    target.append(element('p', 'No problems: the spec checks clean.', 'ok'));
    return;
  }
  for (const d of result.diagnostics) {
    const where = d.span ? result.source.position(d.span.start) : undefined;
    const location = where ? `playground.adapt:${where.line}:${where.column}` : 'playground.adapt';
    const text = `${location}: ${d.severity}[${d.code}]: ${d.message}${d.help ? `\n  help: ${d.help}` : ''}`;
    const item = element('div', text, `diagnostic ${d.severity}`);
    item.dataset.code = d.code;
    if (d.span) item.addEventListener('click', () => onSelect(d.span!.start, d.span!.end));
    target.append(item);
  }
}

let vizInstance: ReturnType<typeof instance> | undefined;

export async function renderGraph(target: HTMLElement, model: Model, graph: string): Promise<void> {
  vizInstance ??= instance();
  const viz = await vizInstance;
  const svg = viz.renderSVGElement(graphPicture(model, graph, lowerModel(model, graph)));
  target.replaceChildren(svg);
}

export function renderWgsl(
  select: HTMLSelectElement,
  info: HTMLElement,
  code: HTMLElement,
  program: Program,
): void {
  const plan = program.gpu!;
  const show = () => {
    const index = Number(select.value);
    const kernel = plan.kernels[index]!;
    const uses = plan.dispatches.filter((d) => d.kernel === index);
    info.textContent = `${plan.dispatches.length} dispatches per forward pass, ${plan.kernels.length} distinct kernels (${plan.target} profile). This one runs ${uses.length} time${uses.length === 1 ? '' : 's'}, e.g. for ${uses[0]?.label ?? '—'}.`;
    code.textContent = kernel.wgsl;
  };
  select.replaceChildren(...plan.kernels.map((k, i) => new Option(`k${i} ${k.name}`, String(i))));
  select.onchange = show;
  show();
}

function table(header: string[], rows: string[][]): HTMLTableElement {
  const t = element('table');
  const head = t.createTHead().insertRow();
  for (const h of header) head.append(element('th', h));
  const body = t.createTBody();
  for (const row of rows) {
    const tr = body.insertRow();
    for (const cell of row) tr.append(element('td', cell));
  }
  return t;
}

const n = (value: number) => value.toLocaleString('en-US');

export function renderParams(target: HTMLElement, model: Model, graph: string): void {
  const report = countParams(model, graph);
  target.replaceChildren(
    element(
      'p',
      `${report.model}, graph '${graph}': ${report.layers.length} layers (no embeddings)`,
    ),
    table(
      ['adapter', 'r', 'per placement', 'placements', 'down', 'up', 'total', 'of base'],
      report.adapters.map((a) => [
        a.name,
        String(a.bottleneck),
        n(a.perPlacement),
        String(a.placements),
        n(a.down),
        n(a.up),
        n(a.total),
        `${((100 * a.total) / report.totals.base).toFixed(2)}%`,
      ]),
    ),
    ...(report.fusions.length
      ? [
          table(
            ['fusion', 'sites', 'per site', 'total'],
            report.fusions.map((f) => [f.name, String(f.sites), n(f.perSite), n(f.total)]),
          ),
        ]
      : []),
    table(
      ['totals', 'parameters', ''],
      [
        ['base (frozen)', n(report.totals.base), ''],
        [
          'adapters',
          n(report.totals.adapters),
          `${report.totals.adaptersPercentOfBase.toFixed(2)}% of base`,
        ],
        ['fusion', n(report.totals.fusion), ''],
        [
          'trainable',
          n(report.totals.trainable),
          `${report.totals.trainablePercentOfTotal.toFixed(2)}% of total`,
        ],
        ['total', n(report.totals.total), ''],
      ],
    ),
  );
}

export function compileFor(text: string, graph: string, target: 'software' | 'gpu', fuse = true) {
  return compile(text, {
    fileName: 'playground.adapt',
    graph,
    target,
    fuse,
    readFile: readSpecFile,
  });
}
