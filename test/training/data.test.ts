import { describe, expect, it } from 'vitest';
import { parseTrainingData } from '../../src/runtime/training/data.js';
import { TrainingError } from '../../src/runtime/training/errors.js';
import type { TrainingHead } from '../../src/runtime/training/head.js';

const classes: TrainingHead = { kind: 'sequence', labels: ['negative', 'neutral', 'positive'] };
const tags: TrainingHead = { kind: 'token', labels: ['O', 'B-PER', 'I-PER'] };

function fault(text: string, head: TrainingHead = classes): string {
  try {
    parseTrainingData(text, 'train.jsonl', head);
  } catch (error) {
    expect(error).toBeInstanceOf(TrainingError);
    return (error as Error).message;
  }
  throw new Error('parsed without an error');
}

describe('parseTrainingData', () => {
  it('reads labels by name or id, skips blank lines and keeps each row its line', () => {
    const text = '{"text": "good", "label": "positive"}\n\n{"label": 0, "text": "bad"}\r\n';
    expect(parseTrainingData(text, 'train.jsonl', classes).rows).toEqual([
      { kind: 'sequence', line: 1, text: 'good', label: 2 },
      { kind: 'sequence', line: 3, text: 'bad', label: 0 },
    ]);
  });

  it('reads a tagging row, one label per word', () => {
    const text = '{"tokens": ["Alice", "sings"], "labels": ["B-PER", 0]}';
    expect(parseTrainingData(text, 'tags.jsonl', tags).rows).toEqual([
      { kind: 'token', line: 1, words: ['Alice', 'sings'], labels: [1, 0] },
    ]);
  });

  it('names the file, the line and the key of each fault', () => {
    const good = '{"text": "fine", "label": "neutral"}\n';
    expect(fault(`${good}{"text": "x", "label": "happy"}`)).toBe(
      `train.jsonl:2: key 'label': unknown label "happy"; the labels are 0 "negative", 1 "neutral", 2 "positive"`,
    );
    expect(fault(`${good}${good}{"text": "x", "label": 3}`)).toBe(
      `train.jsonl:3: key 'label': label id 3 is not in 0..2; the labels are 0 "negative", 1 "neutral", 2 "positive"`,
    );
    expect(fault('')).toBe(
      'train.jsonl: holds no rows; each line is {"text": "...", "label": "..."}',
    );
    expect(fault('\n  \n')).toMatch(/^train\.jsonl: holds no rows/);
    expect(fault('{"text": "  ", "label": 1}')).toBe(
      "train.jsonl:1: key 'text': is empty, so it has no tokens",
    );
    expect(fault('{"text": 5, "label": 1}')).toBe(
      "train.jsonl:1: key 'text': must be a string, got 5",
    );
    expect(fault('{"text": "a", "label": 1.5}')).toBe(
      "train.jsonl:1: key 'label': must be a label name or an integer id, got 1.5",
    );
    expect(fault('{"text": "a", "label": 1, "weight": 2}')).toBe(
      `train.jsonl:1: unknown key 'weight'; a row is {"text", "label"}`,
    );
    expect(fault('{"text": "a"}')).toBe(
      `train.jsonl:1: no key 'label'; a row is {"text", "label"}`,
    );
    expect(fault('["a", 1]')).toBe('train.jsonl:1: a row must be a JSON object, got an array');
    expect(fault('{"text": "a", "label": 1')).toMatch(/^train\.jsonl:1: not JSON \(/);
  });

  it('refuses a row that does not fit the head type', () => {
    expect(fault('{"tokens": ["a"], "labels": [0]}')).toBe(
      `train.jsonl:1: key 'tokens': the head is a classification head, so a row is {"text", "label"}`,
    );
    expect(fault('{"text": "a", "label": "O"}', tags)).toBe(
      `train.jsonl:1: key 'text': the head is a tagging head, so a row is {"tokens", "labels"}`,
    );
    expect(fault('{"tokens": ["a", "b"], "labels": ["O"]}', tags)).toBe(
      "train.jsonl:1: key 'labels': 1 labels for 2 words; give one label per word",
    );
    expect(fault('{"tokens": [], "labels": []}', tags)).toBe(
      "train.jsonl:1: key 'tokens': must be a non-empty array of words, got an array",
    );
    expect(fault('{"tokens": ["a", ""], "labels": ["O", "O"]}', tags)).toBe(
      `train.jsonl:1: key 'tokens': word 2 must be a non-empty string, got the string ""`,
    );
    expect(fault('{"tokens": ["a"], "labels": ["X"]}', tags)).toBe(
      `train.jsonl:1: key 'labels', item 1: unknown label "X"; the labels are 0 "O", 1 "B-PER", 2 "I-PER"`,
    );
  });
});
