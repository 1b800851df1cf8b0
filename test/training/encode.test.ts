import { describe, expect, it } from 'vitest';
import { IGNORED_LABEL } from '../../src/runtime/training/backend.js';
import { makeBatch } from '../../src/runtime/training/batch.js';
import { parseTrainingData } from '../../src/runtime/training/data.js';
import { encodeTrainingData } from '../../src/runtime/training/encode.js';
import { TrainingError } from '../../src/runtime/training/errors.js';
import { trainingHead } from '../../src/runtime/training/head.js';
import { tinyProgram, tinyTokenizer } from './tiny.js';

const TAGGER =
  'model tiny from "distilbert-token-cls"\nadapter t { bottleneck 4 at ffn }\ngraph default = t\n';

describe('tokenizing training rows', () => {
  it('encodes a text as adapt run does, and pads a batch to its longest row', () => {
    const program = tinyProgram();
    const tokenizer = tinyTokenizer();
    const data = parseTrainingData(
      '{"text": "I love this film", "label": "positive"}\n{"text": "hello", "label": 1}\n',
      'train.jsonl',
      trainingHead(program),
    );
    const encoded = encodeTrainingData(data, program.model.text!, tokenizer);
    const reference = tokenizer.encodeBatch(['I love this film', 'hello'], {
      maxLength: 32,
      padId: 0,
    });
    const batch = makeBatch(program, encoded, [0, 1]);
    expect([batch.inputs.batch, batch.inputs.seq]).toEqual([2, reference.seq]);
    expect([...batch.inputs.values.get('input_ids')!]).toEqual([...reference.inputIds]);
    expect([...batch.inputs.values.get('attention_mask')!]).toEqual([...reference.attentionMask]);
    expect([...batch.labels]).toEqual([2, 1]);
  });

  it("labels a tagging row's first sub-word token of each word, -100 elsewhere", () => {
    const program = tinyProgram(TAGGER);
    const tokenizer = tinyTokenizer('distilbert-token-cls');
    const head = trainingHead(program);
    expect(head.kind).toBe('token');
    const words = ['alice', 'lives', 'in', 'paris'];
    const data = parseTrainingData(
      JSON.stringify({ tokens: words, labels: [1, 0, 0, 2] }),
      'tags.jsonl',
      head,
    );
    const [row] = encodeTrainingData(data, program.model.text!, tokenizer).rows;
    // Each word alone, as is_split_into_words tokenizes it.
    const pieces = words.map((word) => {
      const one = tokenizer.encodeBatch([word], { maxLength: 32 });
      return one.words[0]!.flatMap((w, t) => (w === null ? [] : [one.inputIds[t]!]));
    });
    const whole = tokenizer.encodeBatch([words.join(' ')], { maxLength: 32 });
    expect([...row!.ids]).toEqual([...whole.inputIds]);
    const expected = [IGNORED_LABEL];
    pieces.forEach((ids, w) =>
      ids.forEach((_, t) => expected.push(t === 0 ? [1, 0, 0, 2][w]! : IGNORED_LABEL)),
    );
    expected.push(IGNORED_LABEL);
    expect([...row!.labels]).toEqual(expected);
    const batch = makeBatch(
      program,
      { ...encodeTrainingData(data, program.model.text!, tokenizer) },
      [0, 0],
    );
    expect(batch.labels).toHaveLength(2 * row!.ids.length);
  });

  it('refuses a text that gives no tokens but the special ones, at its line', () => {
    const program = tinyProgram();
    const data = parseTrainingData(
      '{"text": "ok", "label": 0}\n{"text": "\\u0000", "label": 0}',
      'train.jsonl',
      trainingHead(program),
    );
    const encode = () => encodeTrainingData(data, program.model.text!, tinyTokenizer());
    expect(encode).toThrow(TrainingError);
    expect(encode).toThrow("train.jsonl:2: key 'text': gives no tokens but the special ones");
  });
});
