import { describe, expect, it } from 'vitest';
import type { EncodedText } from '../../src/cli/serve/batch-inputs.js';
import type { Engine, Target } from '../../src/cli/serve/catalog.js';
import { HttpError } from '../../src/cli/serve/http-error.js';
import type { SequenceResult, TextResult } from '../../src/cli/serve/results.js';
import { settleBatch, type SequenceItem } from '../../src/cli/serve/run-batch.js';
import { AdaptRuntimeError } from '../../src/runtime/errors.js';
import type { Program } from '../../src/runtime/program.js';

const POISON = 999;
const LABELS = ['no', 'yes'];

/** An engine whose "model" gives logits [sum of ids, 1], and fails on a batch holding POISON. */
function fakeEngine(failure: () => Error): Engine {
  const program = {
    inputs: [{ name: 'input_ids' }, { name: 'attention_mask' }],
    model: { text: { padId: 0 } },
  } as unknown as Program;
  const model = {
    run: (inputs: { input_ids: { data: Int32Array; shape: number[] } }) => {
      const [batch, seq] = inputs.input_ids.shape as [number, number];
      const ids = inputs.input_ids.data;
      if (ids.includes(POISON)) return Promise.reject(failure());
      const logits = new Float32Array(batch * 2);
      for (let b = 0; b < batch; b++) {
        logits[2 * b] = ids.subarray(b * seq, (b + 1) * seq).reduce((a, x) => a + x, 0);
        logits[2 * b + 1] = 1;
      }
      return Promise.resolve({ logits: { data: logits, shape: [batch, 2] } });
    },
  };
  return { name: 'fake', program, model } as unknown as Engine;
}

function item(
  engine: Engine,
  ids: number[],
  settled: Map<number, TextResult | HttpError>,
  id: number,
): SequenceItem {
  const target = {
    engine,
    head: { layout: 'pooler', scores: 'softmax', labels: LABELS },
  } as unknown as Target;
  const text: EncodedText = {
    ids: Int32Array.from(ids),
    mask: new Int32Array(ids.length).fill(1),
    types: new Int32Array(ids.length),
    tokens: ids.map(String),
    words: ids.map((_, i) => i),
    truncated: false,
  };
  return {
    key: 'k',
    target,
    text,
    resolve: (result) => settled.set(id, result),
    reject: (error) => settled.set(id, error),
  };
}

describe('settleBatch', () => {
  it('runs the items of a failed batch alone, so only the one that fails alone fails', async () => {
    const engine = fakeEngine(() => new AdaptRuntimeError('this sequence cannot run'));
    const settled = new Map<number, TextResult | HttpError>();
    const items = [[1, 2], [POISON], [3, 4, 5]].map((ids, i) => item(engine, ids, settled, i));
    await settleBatch(items);
    expect((settled.get(0) as SequenceResult).logits).toEqual([3, 1]);
    expect((settled.get(2) as SequenceResult).logits).toEqual([12, 1]);
    const failed = settled.get(1) as HttpError;
    expect(failed).toBeInstanceOf(HttpError);
    expect(failed.status).toBe(500);
    expect(failed.message).toMatch(/this sequence cannot run/);
  });

  it('answers every item of a batch the device failed 503 with Retry-After', async () => {
    const engine = fakeEngine(
      () => new AdaptRuntimeError('the GPU device was lost during the run, twice (destroyed)'),
    );
    const settled = new Map<number, TextResult | HttpError>();
    const items = [[POISON], [1]].map((ids, i) => item(engine, ids, settled, i));
    await settleBatch(items);
    for (const id of [0, 1]) {
      const error = settled.get(id) as HttpError;
      expect(error.status).toBe(503);
      expect(error.headers['Retry-After']).toBe('1');
    }
  });
});
