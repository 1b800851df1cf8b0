import { TrainingError } from './errors.js';
import type { TrainingHead } from './head.js';

/** One labelled row of a training file, with the line it came from. */
export type TrainingRow =
  | {
      readonly kind: 'sequence';
      readonly line: number;
      readonly text: string;
      readonly label: number;
    }
  | {
      readonly kind: 'token';
      readonly line: number;
      readonly words: readonly string[];
      readonly labels: readonly number[];
    };

export interface TrainingData {
  /** As given, for messages: `FILE:LINE`. */
  readonly file: string;
  readonly rows: readonly TrainingRow[];
}

const SEQUENCE_KEYS = ['text', 'label'];
const TOKEN_KEYS = ['tokens', 'labels'];

/**
 * Parses a JSONL training file strictly: one JSON object a line (blank lines skipped), either
 * `{"text": "...", "label": L}` for a classification head or `{"tokens": [...], "labels": [...]}`
 * (one label per word) for a tagging head, a label being one of the head's label names or an
 * integer id. Every fault is a TrainingError at `FILE:LINE` naming the key.
 */
export function parseTrainingData(text: string, file: string, head: TrainingHead): TrainingData {
  const rows: TrainingRow[] = [];
  const lines = text.split('\n');
  lines.forEach((raw, index) => {
    const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    if (line.trim() === '') return;
    rows.push(parseRow(line, { file, line: index + 1, head }));
  });
  if (rows.length === 0)
    throw new TrainingError(
      file,
      head.kind === 'token'
        ? 'holds no rows; each line is {"tokens": [...], "labels": [...]}'
        : 'holds no rows; each line is {"text": "...", "label": "..."}',
    );
  return { file, rows };
}

interface Place {
  readonly file: string;
  readonly line: number;
  readonly head: TrainingHead;
}

const fault = (place: Place, detail: string) =>
  new TrainingError(`${place.file}:${place.line}`, detail);

function parseRow(line: string, place: Place): TrainingRow {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch (error) {
    throw fault(place, `not JSON (${error instanceof Error ? error.message : String(error)})`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw fault(place, `a row must be a JSON object, got ${typeOf(value)}`);
  const row = value as Record<string, unknown>;
  const expected = place.head.kind === 'token' ? TOKEN_KEYS : SEQUENCE_KEYS;
  const other = place.head.kind === 'token' ? SEQUENCE_KEYS : TOKEN_KEYS;
  const shape = `{${expected.map((k) => `"${k}"`).join(', ')}}`;
  for (const key of Object.keys(row)) {
    if (expected.includes(key)) continue;
    if (other.includes(key))
      throw fault(
        place,
        `key '${key}': the head is a ${place.head.kind === 'token' ? 'tagging' : 'classification'} head, so a row is ${shape}`,
      );
    throw fault(place, `unknown key '${key}'; a row is ${shape}`);
  }
  for (const key of expected)
    if (!(key in row)) throw fault(place, `no key '${key}'; a row is ${shape}`);
  return place.head.kind === 'token' ? tokenRow(row, place) : sequenceRow(row, place);
}

function sequenceRow(row: Record<string, unknown>, place: Place): TrainingRow {
  if (typeof row.text !== 'string')
    throw fault(place, `key 'text': must be a string, got ${typeOf(row.text)}`);
  if (row.text.trim() === '') throw fault(place, `key 'text': is empty, so it has no tokens`);
  return {
    kind: 'sequence',
    line: place.line,
    text: row.text,
    label: labelId(row.label, place, "key 'label'"),
  };
}

function tokenRow(row: Record<string, unknown>, place: Place): TrainingRow {
  const { tokens, labels } = row;
  if (!Array.isArray(tokens) || tokens.length === 0)
    throw fault(place, `key 'tokens': must be a non-empty array of words, got ${typeOf(tokens)}`);
  if (!Array.isArray(labels))
    throw fault(place, `key 'labels': must be an array of labels, got ${typeOf(labels)}`);
  if (labels.length !== tokens.length)
    throw fault(
      place,
      `key 'labels': ${labels.length} labels for ${tokens.length} words; give one label per word`,
    );
  const words = tokens.map((word: unknown, i) => {
    if (typeof word !== 'string' || word.trim() === '')
      throw fault(
        place,
        `key 'tokens': word ${i + 1} must be a non-empty string, got ${typeOf(word)}`,
      );
    return word;
  });
  return {
    kind: 'token',
    line: place.line,
    words,
    labels: labels.map((label: unknown, i) => labelId(label, place, `key 'labels', item ${i + 1}`)),
  };
}

/** A label name of the head, or an integer id of one. */
function labelId(value: unknown, place: Place, shown: string): number {
  const { labels } = place.head;
  if (typeof value === 'string') {
    const id = labels.indexOf(value);
    if (id >= 0) return id;
    throw fault(
      place,
      `${shown}: unknown label ${JSON.stringify(value)}; the labels are ${listLabels(labels)}`,
    );
  }
  if (typeof value === 'number' && Number.isInteger(value)) {
    if (value >= 0 && value < labels.length) return value;
    throw fault(
      place,
      `${shown}: label id ${value} is not in 0..${labels.length - 1}; the labels are ${listLabels(labels)}`,
    );
  }
  throw fault(place, `${shown}: must be a label name or an integer id, got ${typeOf(value)}`);
}

function listLabels(labels: readonly string[]): string {
  const shown = labels.slice(0, 20).map((label, id) => `${id} ${JSON.stringify(label)}`);
  return `${shown.join(', ')}${labels.length > 20 ? `, … (${labels.length} in all)` : ''}`;
}

function typeOf(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'string') return `the string ${JSON.stringify(value.slice(0, 40))}`;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return typeof value === 'object' ? 'an object' : typeof value;
}
