import { GPU_TOLERANCE } from '../../../src/runtime/index.js';
import { element } from './panels.js';
import { SHOWN, type TextPrediction } from './predictions.js';
import type { TextRunResult } from './text-run.js';

const score = (value: number) => value.toFixed(6);

function tokenChips(prediction: TextPrediction): HTMLElement {
  const list = element('div', undefined, 'tokens');
  prediction.tokens.forEach((token, t) => {
    list.append(element('span', token, prediction.special[t] ? 'token special' : 'token'));
  });
  return list;
}

function scoreTable(header: [string, string], rows: { label: string; score: number }[]) {
  const table = element('table', undefined, 'scores');
  const head = table.createTHead().insertRow();
  head.append(element('th', header[0]), element('th', header[1]));
  const body = table.createTBody();
  for (const row of rows) {
    const tr = body.insertRow();
    tr.dataset.label = row.label;
    tr.dataset.score = String(row.score);
    const bar = element('td', score(row.score), 'score');
    bar.style.backgroundSize = `${(100 * row.score).toFixed(1)}% 100%`;
    tr.append(element('td', row.label, 'label'), bar);
  }
  return table;
}

function nextTokens(prediction: TextPrediction): HTMLTableElement {
  const table = scoreTable(
    ['next token', 'score'],
    prediction.next!.map((n) => ({ label: n.token, score: n.score })),
  );
  table.tHead!.rows[0]!.append(element('th', 'reads as'));
  prediction.next!.forEach((n, i) => {
    table.tBodies[0]!.rows[i]!.append(element('td', JSON.stringify(n.text), 'text'));
  });
  return table;
}

function entities(prediction: TextPrediction): HTMLElement {
  const list = element('div', undefined, 'entities');
  for (const word of prediction.words!) {
    const item = element('span', undefined, word.label === 'O' ? 'entity outside' : 'entity');
    item.dataset.label = word.label;
    item.dataset.score = String(word.score);
    item.append(element('span', word.word, 'word'), element('span', word.label, 'label'));
    item.title = `${word.label} ${score(word.score)}`;
    list.append(item);
  }
  return list;
}

function predictionOf(prediction: TextPrediction): HTMLElement[] {
  if (prediction.labels)
    return [
      scoreTable(
        ['label', 'score'],
        prediction.labels.slice(0, SHOWN).map((l) => l),
      ),
    ];
  if (prediction.words) return [entities(prediction)];
  if (prediction.next) return [element('p', 'the likeliest next tokens'), nextTokens(prediction)];
  return [element('p', 'no head: the graph gives last_hidden_state only', 'muted')];
}

/** Each text: its tokens, and the head's predictions with scores. */
export function renderTextResult(target: HTMLElement, result: TextRunResult): void {
  const list = element('dl');
  const rows: [string, string][] = [
    [
      'backend',
      result.backend === 'webgpu'
        ? `WebGPU on ${result.adapter} (${result.profile} kernels), ${result.dispatches} dispatches`
        : 'the CPU reference (this browser has no WebGPU)',
    ],
    [
      'run',
      `${result.runMs.toFixed(1)} ms${result.loadMs ? `, load ${result.loadMs.toFixed(0)} ms` : ''}`,
    ],
  ];
  if (result.relativeError !== undefined) {
    const ok = result.relativeError <= GPU_TOLERANCE;
    rows.push([
      'vs CPU reference',
      `relative error ${result.relativeError.toExponential(2)} ${ok ? '≤' : '>'} ${GPU_TOLERANCE}`,
    ]);
  }
  if (result.seeded.length > 0)
    rows.push(['seeded', `${result.seeded.length} adapter and fusion weights no file holds`]);
  for (const [term, value] of rows) list.append(element('dt', term), element('dd', value));

  const texts = element('div');
  texts.id = 'text-results';
  result.predictions.forEach((prediction, b) => {
    const item = element('section', undefined, 'text-result');
    item.dataset.index = String(b);
    item.append(element('h3', prediction.text || '(empty text)'), tokenChips(prediction));
    if (prediction.truncated)
      item.append(element('p', 'cut to the tokens the model takes', 'notice'));
    item.append(...predictionOf(prediction));
    texts.append(item);
  });
  target.replaceChildren(list, texts);
  target.dataset.state = 'done';
  if (result.relativeError !== undefined) target.dataset.error = String(result.relativeError);
}
