import { existsSync, mkdtempSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { compile } from '../src/compiler/index.js';
import { readCheckpoint, readCheckpointWeights } from '../src/cli/checkpoint-files.js';
import { readWeightFiles } from '../src/cli/weights-files.js';
import { InputError, ProgramError, WeightError } from '../src/runtime/errors.js';
import { positionIds, prepareInputs, randomInputs } from '../src/runtime/inputs.js';
import type { Program, ProgramText } from '../src/runtime/program.js';
import { normalArray } from '../src/runtime/random.js';
import { Runtime } from '../src/runtime/runtime.js';
import { loadSafetensors, saveSafetensors, type TensorMap } from '../src/runtime/safetensors.js';
import type { BatchTokenizer, TokenLabel } from '../src/runtime/text/classify.js';
import { gpuIt, gpuRuntime } from './helpers/gpu.js';
import { validateProgram } from '../src/runtime/validate-program.js';

const D = 4;
const VOCAB = 10;
const POSITIONS = 8;
const LABELS = ['negative', 'positive', 'neutral'];

type Head = 'pooler' | 'token' | 'none';

/**
 * A BERT-like text program by hand: embeddings (word + position + type, LayerNorm) as the
 * encoder, then a pooler head (tanh(pooler.dense(first token)), classifier) or a token head.
 */
function bertProgram(head: Head = 'pooler', scores: 'softmax' | 'sigmoid' = 'softmax'): Program {
  const nodes: unknown[] = [];
  const weights: unknown[] = [];
  const node = (op: string, shape: unknown[], inputs: number[], attrs = {}, dtype = 'f32') => {
    nodes.push({ id: nodes.length, op, dtype, shape, inputs, attrs });
    return nodes.length - 1;
  };
  const weight = (name: string, shape: number[]) => {
    weights.push({ name, shape, init: { kind: 'normal', std: 0.5 } });
    return node('weight', shape, [], { name });
  };
  const tokens = ['B', 'T'];
  const ids = node('input', tokens, [], { name: 'input_ids' }, 'i32');
  const mask = node('input', tokens, [], { name: 'attention_mask' }, 'i32');
  const types = node('input', tokens, [], { name: 'token_type_ids' }, 'i32');
  const positions = node('input', tokens, [], { name: 'position_ids' }, 'i32');
  const word = node(
    'gather',
    ['B', 'T', D],
    [weight('embeddings.word_embeddings.weight', [VOCAB, D]), ids],
  );
  const position = node(
    'gather',
    ['B', 'T', D],
    [weight('embeddings.position_embeddings.weight', [POSITIONS, D]), positions],
  );
  const type = node(
    'gather',
    ['B', 'T', D],
    [weight('embeddings.token_type_embeddings.weight', [2, D]), types],
  );
  const sum = node('add', ['B', 'T', D], [node('add', ['B', 'T', D], [word, position]), type]);
  const last = node(
    'layer_norm',
    ['B', 'T', D],
    [sum, weight('embeddings.LayerNorm.weight', [D]), weight('embeddings.LayerNorm.bias', [D])],
    { eps: 1e-12 },
  );
  const linear = (x: number, name: string, rows: unknown[], out: number) =>
    node(
      'add',
      [...rows, out],
      [
        node('matmul', [...rows, out], [x, weight(`${name}.weight`, [out, D])]),
        weight(`${name}.bias`, [out]),
      ],
    );
  const outputs: unknown[] = [
    { name: 'last_hidden_state', dtype: 'f32', shape: ['B', 'T', D], node: last },
  ];
  if (head === 'pooler') {
    const pooled = node(
      'tanh',
      ['B', D],
      [linear(node('first_token', ['B', D], [last]), 'pooler.dense', ['B'], D)],
    );
    const logits = linear(pooled, 'classifier', ['B'], LABELS.length);
    outputs.push({ name: 'logits', dtype: 'f32', shape: ['B', LABELS.length], node: logits });
  }
  if (head === 'token') {
    const logits = linear(last, 'classifier', ['B', 'T'], LABELS.length);
    outputs.push({ name: 'logits', dtype: 'f32', shape: ['B', 'T', LABELS.length], node: logits });
  }
  const text: ProgramText = {
    family: 'bert',
    vocab: VOCAB,
    maxPositions: POSITIONS,
    typeVocab: 2,
    padId: 0,
    positions: 'absolute',
    ...(head === 'none' ? {} : { head: { layout: head, labels: LABELS, scores } }),
  };
  const input = (name: string, id: number, optional: boolean) => ({
    name,
    dtype: 'i32',
    shape: tokens,
    node: id,
    ...(optional ? { optional } : {}),
  });
  return validateProgram({
    format: 'adaptc-program',
    version: 1,
    source: 'hand.adapt',
    graph: 'default',
    model: {
      name: 'tiny',
      hidden: D,
      heads: 2,
      ffn: 8,
      layers: 1,
      norm: 'post',
      attention: 'bidirectional',
      text,
    },
    inputs: [
      input('input_ids', ids, false),
      input('attention_mask', mask, true),
      input('token_type_ids', types, true),
      input('position_ids', positions, true),
    ],
    outputs,
    weights,
    nodes,
  });
}

/** The fields of a program's JSON that the tests edit into broken ones. */
interface ProgramJson {
  model: { text?: Record<string, unknown> & { head?: Record<string, unknown> } };
  inputs: { name: string }[];
  weights: Record<string, unknown>[];
}

const asJson = (program: Program) => JSON.parse(JSON.stringify(program)) as ProgramJson;

function expectProgramError(edit: (json: ProgramJson) => void, message: string) {
  const json = asJson(bertProgram());
  edit(json);
  expect(() => validateProgram(json)).toThrow(new ProgramError(message));
}

/** Seeded tensors for the program's weights under the names a BertForSequenceClassification file uses. */
function bertCheckpoint(program: Program, seed = 3): TensorMap {
  const file: TensorMap = new Map();
  program.weights.forEach((spec, i) => {
    const name = /^(classifier)\./.test(spec.name) ? spec.name : `bert.${spec.name}`;
    const count = spec.shape.reduce((a, b) => a * b, 1);
    file.set(name, { dtype: 'F32', shape: spec.shape, data: normalArray(count, seed + i, 0.5) });
  });
  return file;
}

const ids = (rows: number[][]) => ({
  data: Int32Array.from(rows.flat()),
  shape: [rows.length, rows[0]!.length],
});

describe('text programs', () => {
  it('validate with model.text, token-id inputs, last_hidden_state and logits', () => {
    const program = bertProgram();
    expect(program.model.text).toEqual({
      family: 'bert',
      vocab: VOCAB,
      maxPositions: POSITIONS,
      typeVocab: 2,
      padId: 0,
      positions: 'absolute',
      head: { layout: 'pooler', labels: LABELS, scores: 'softmax' },
    });
    expect(Object.isFrozen(program.model.text!.head!.labels)).toBe(true);
    expect(bertProgram('token').outputs.map((o) => o.shape)).toEqual([
      ['B', 'T', D],
      ['B', 'T', 3],
    ]);
    expect(bertProgram('none').outputs.map((o) => o.name)).toEqual(['last_hidden_state']);
  });

  it('are read strictly', () => {
    expectProgramError(
      (json) => (json.model.text!.extra = 1),
      "program.model.text.extra: is not a field here ('family', 'vocab', 'maxPositions', 'typeVocab', 'padId', 'positions', 'head')",
    );
    expectProgramError(
      (json) => (json.model.text!.family = 'llama'),
      "program.model.text.family: must be 'bert' or 'roberta' or 'distilbert' or 'gpt2', got the string \"llama\"",
    );
    expectProgramError(
      (json) => (json.model.text!.padId = VOCAB),
      `program.model.text.padId: must be an integer in 0..${VOCAB - 1}, got ${VOCAB}`,
    );
    expectProgramError((json) => {
      json.model.text!.positions = 'after-padding';
      delete json.model.text!.padId;
    }, "program.model.text.padId: is required where positions are 'after-padding'");
    expectProgramError(
      (json) => (json.model.text!.typeVocab = 0),
      "program.inputs[2].name: 'token_type_ids' needs a type vocabulary; program.model.text.typeVocab is 0",
    );
    expectProgramError(
      (json) => (json.model.text!.head!.labels = ['a', 'b']),
      'program.outputs[1]: must be f32 [B, 2]',
    );
    expectProgramError(
      (json) => delete json.model.text!.head,
      "program.outputs[1]: 'logits' needs a head in program.model.text.head",
    );
    expectProgramError(
      (json) => (json.inputs[0]!.name = 'hidden_states'),
      "program.inputs[0].name: 'hidden_states' is not an input the runtime feeds a text program (input_ids, attention_mask, token_type_ids, position_ids, adapter_index)",
    );
    expectProgramError((json) => {
      json.model.text = undefined;
    }, "program.inputs[0].name: 'input_ids' is not an input the runtime feeds a hidden-state program (hidden_states, attention_mask, adapter_index)");
    expectProgramError(
      (json) => (json.weights[0]!.from = { tensor: 'wte.weight', rows: [0, 4] }),
      'program.weights[0].from.rows: [0, 4) are 4 rows; the weight [10, 4] has 10',
    );
    expectProgramError(
      (json) => (json.weights[4]!.from = { tensor: 'b', transpose: true }),
      'program.weights[4].from.transpose: only a 2-D weight is transposed; this one is [4]',
    );
    expectProgramError(
      (json) => (json.weights[0]!.from = { tensor: 'wte.weight', slice: 1 }),
      "program.weights[0].from.slice: is not a field here ('tensor', 'transpose', 'rows')",
    );
  });
});

describe('text inputs', () => {
  const program = bertProgram();

  it('name the first id past the vocabulary by its position', () => {
    expect(() =>
      prepareInputs(program, {
        input_ids: ids([
          [1, 2, 3],
          [4, 5, VOCAB],
        ]),
      }),
    ).toThrow(
      new InputError(
        `tensor 'input_ids': input_ids[1, 2]: ${VOCAB} is past the vocabulary (0..${VOCAB - 1})`,
      ),
    );
    expect(() => prepareInputs(program, { input_ids: ids([[1, -1]]) })).toThrow(
      new InputError(
        `tensor 'input_ids': input_ids[0, 1]: -1 is below the vocabulary (0..${VOCAB - 1})`,
      ),
    );
    expect(() =>
      prepareInputs(program, { input_ids: ids([[1, 2]]), token_type_ids: ids([[0, 2]]) }),
    ).toThrow(
      new InputError(
        "tensor 'token_type_ids': token_type_ids[0, 1]: 2 is past the token types (0..1)",
      ),
    );
    expect(() =>
      prepareInputs(program, { input_ids: ids([[1, 2]]), position_ids: ids([[0, POSITIONS]]) }),
    ).toThrow(
      new InputError(
        `tensor 'position_ids': position_ids[0, 1]: ${POSITIONS} is past the positions (0..${POSITIONS - 1})`,
      ),
    );
    expect(() =>
      prepareInputs(program, { input_ids: ids([Array(POSITIONS + 1).fill(1)]) }),
    ).toThrow(
      new InputError(
        `tensor 'input_ids': ${POSITIONS + 1} tokens per sequence; this model takes at most ${POSITIONS} (${POSITIONS} positions)`,
      ),
    );
    expect(() =>
      prepareInputs(program, { input_ids: { data: new Float32Array(2), shape: [1, 2] } }),
    ).toThrow(/^tensor 'input_ids': has dtype Float32Array; it must have an integer dtype/);
    expect(() =>
      prepareInputs(program, {
        hidden_states: { data: new Float32Array(4), shape: [1, 1, 4] },
      } as never),
    ).toThrow(
      new InputError(
        "unknown input 'hidden_states'; this program takes 'input_ids', 'attention_mask', 'token_type_ids', 'position_ids'",
      ),
    );
  });

  it('default the mask to ones, the types to zeros and the positions to 0..T-1', () => {
    const prepared = prepareInputs(program, {
      input_ids: ids([
        [1, 2, 3],
        [4, 0, 0],
      ]),
    });
    expect([prepared.batch, prepared.seq]).toEqual([2, 3]);
    expect([...prepared.values.get('attention_mask')!]).toEqual([1, 1, 1, 1, 1, 1]);
    expect([...prepared.values.get('token_type_ids')!]).toEqual([0, 0, 0, 0, 0, 0]);
    expect([...prepared.values.get('position_ids')!]).toEqual([0, 1, 2, 0, 1, 2]);
    const given = prepareInputs(program, { input_ids: ids([[1, 2]]), position_ids: ids([[3, 5]]) });
    expect([...given.values.get('position_ids')!]).toEqual([3, 5]);
  });

  it('take int64 ids, as a BigInt64Array or from an I64 safetensors tensor', () => {
    const wide = { data: BigInt64Array.from([1n, 2n, 9n]), shape: [1, 3] };
    expect([...prepareInputs(program, { input_ids: wide }).values.get('input_ids')!]).toEqual([
      1, 2, 9,
    ]);
    expect(() =>
      prepareInputs(program, {
        input_ids: { data: BigInt64Array.from([1n, 2n ** 40n]), shape: [1, 2] },
      }),
    ).toThrow(
      new InputError(`tensor 'input_ids': element 1 is ${2n ** 40n}; it does not fit in int32`),
    );
    const file = loadSafetensors(i64File('input_ids', [1, 3], [7n, 0n, 3n]));
    expect(file.get('input_ids')!.dtype).toBe('I64');
    const prepared = prepareInputs(program, { input_ids: file.get('input_ids')! });
    expect([...prepared.values.get('input_ids')!]).toEqual([7, 0, 3]);
  });

  it('are random ids of the vocabulary for a text program', () => {
    const inputs = randomInputs(program, 3, 5, 11);
    expect(Object.keys(inputs)).toEqual(['input_ids']);
    if (!('input_ids' in inputs)) throw new Error('expected token ids');
    const data = inputs.input_ids.data as Int32Array;
    expect(data.length).toBe(15);
    expect(data.every((id) => id >= 1 && id < VOCAB)).toBe(true);
    expect(() => prepareInputs(program, inputs)).not.toThrow();
  });
});

/** A safetensors file holding one I64 tensor, written by hand (the writer writes F32 and I32). */
function i64File(name: string, shape: number[], values: bigint[]): Uint8Array {
  const header = new TextEncoder().encode(
    JSON.stringify({
      [name]: { dtype: 'I64', shape, data_offsets: [0, 8 * values.length] },
    }).padEnd(64),
  );
  const bytes = new Uint8Array(8 + header.length + 8 * values.length);
  const view = new DataView(bytes.buffer);
  view.setBigUint64(0, BigInt(header.length), true);
  bytes.set(header, 8);
  values.forEach((v, i) => view.setBigInt64(8 + header.length + 8 * i, v, true));
  return bytes;
}

describe('position ids', () => {
  const roberta: ProgramText = {
    family: 'roberta',
    vocab: 50,
    maxPositions: 10,
    typeVocab: 1,
    padId: 1,
    positions: 'after-padding',
  };

  // Hugging Face's create_position_ids_from_input_ids: mask = ids != 1,
  // cumsum(mask, dim=1) * mask + 1.
  it('count non-pad tokens from padding_idx + 1 and give pad tokens padding_idx (RoBERTa)', () => {
    // Right padding: <s> a b </s> <pad> <pad>: mask 1 1 1 1 0 0, cumsum 1 2 3 4 4 4.
    expect([...positionIds(roberta, Int32Array.from([0, 7, 8, 2, 1, 1]), 6)]).toEqual([
      2, 3, 4, 5, 1, 1,
    ]);
    // Left padding: <pad> <pad> <s> a </s>: mask 0 0 1 1 1, cumsum 0 0 1 2 3.
    expect([...positionIds(roberta, Int32Array.from([1, 1, 0, 7, 2]), 5)]).toEqual([1, 1, 2, 3, 4]);
    // A pad id between tokens keeps padding_idx, and the count goes on after it.
    expect([...positionIds(roberta, Int32Array.from([0, 1, 7, 2]), 4)]).toEqual([2, 1, 3, 4]);
    // Two rows are counted apart.
    expect([...positionIds(roberta, Int32Array.from([0, 2, 1, 0, 7, 2]), 3)]).toEqual([
      2, 3, 1, 2, 3, 4,
    ]);
  });

  it('count 0..T-1 in every row for absolute positions, padding or not', () => {
    const bert = { ...roberta, positions: 'absolute' as const, padId: 0 };
    expect([...positionIds(bert, Int32Array.from([5, 6, 0, 0, 5, 6, 7, 8]), 4)]).toEqual([
      0, 1, 2, 3, 0, 1, 2, 3,
    ]);
  });

  it('limit a RoBERTa sequence to the positions after padding_idx', () => {
    const json = asJson(bertProgram());
    json.model.text = { ...json.model.text, positions: 'after-padding', padId: 1 };
    const program = validateProgram(json);
    // Positions 2..7 of 8: six tokens.
    const six = prepareInputs(program, { input_ids: ids([[0, 5, 6, 7, 8, 2]]) });
    expect([...six.values.get('position_ids')!]).toEqual([2, 3, 4, 5, 6, 7]);
    expect(() => prepareInputs(program, { input_ids: ids([[0, 5, 6, 7, 8, 9, 2]]) })).toThrow(
      new InputError(
        "tensor 'input_ids': 7 tokens per sequence; this model takes at most 6 (8 positions)",
      ),
    );
  });
});

/** A GPT-2-like program: wte + wpe, q and k projections cut from a Conv1D c_attn, tied LM head. */
function gpt2Program(): Program {
  const nodes: unknown[] = [];
  const weights: unknown[] = [];
  const node = (op: string, shape: unknown[], inputs: number[], attrs = {}, dtype = 'f32') => {
    nodes.push({ id: nodes.length, op, dtype, shape, inputs, attrs });
    return nodes.length - 1;
  };
  const weight = (name: string, shape: number[], from?: unknown) => {
    weights.push({ name, shape, init: { kind: 'zeros' }, ...(from ? { from } : {}) });
    return node('weight', shape, [], { name });
  };
  const ids = node('input', ['B', 'T'], [], { name: 'input_ids' }, 'i32');
  const positions = node('input', ['B', 'T'], [], { name: 'position_ids' }, 'i32');
  const wte = weight('wte.weight', [6, D]);
  const h = node(
    'add',
    ['B', 'T', D],
    [
      node('gather', ['B', 'T', D], [wte, ids]),
      node('gather', ['B', 'T', D], [weight('wpe.weight', [POSITIONS, D]), positions]),
    ],
  );
  const cut = (part: string, rows: [number, number]) =>
    node(
      'add',
      ['B', 'T', D],
      [
        node(
          'matmul',
          ['B', 'T', D],
          [
            h,
            weight(`h.0.attn.${part}.weight`, [D, D], {
              tensor: 'h.0.attn.c_attn.weight',
              transpose: true,
              rows,
            }),
          ],
        ),
        weight(`h.0.attn.${part}.bias`, [D], { tensor: 'h.0.attn.c_attn.bias', rows }),
      ],
    );
  const last = node('add', ['B', 'T', D], [cut('q', [0, D]), cut('k', [D, 2 * D])]);
  const logits = node('matmul', ['B', 'T', 6], [last, wte]);
  return validateProgram({
    format: 'adaptc-program',
    version: 1,
    source: 'gpt2.adapt',
    graph: 'default',
    model: {
      name: 'tiny',
      hidden: D,
      heads: 2,
      ffn: 16,
      layers: 1,
      norm: 'pre',
      attention: 'causal',
      text: {
        family: 'gpt2',
        vocab: 6,
        maxPositions: POSITIONS,
        typeVocab: 0,
        positions: 'absolute',
        head: { layout: 'tied-embeddings', labels: [], scores: 'softmax' },
      },
    },
    inputs: [
      { name: 'input_ids', dtype: 'i32', shape: ['B', 'T'], node: ids },
      { name: 'position_ids', dtype: 'i32', shape: ['B', 'T'], node: positions, optional: true },
    ],
    outputs: [
      { name: 'last_hidden_state', dtype: 'f32', shape: ['B', 'T', D], node: last },
      { name: 'logits', dtype: 'f32', shape: ['B', 'T', 6], node: logits },
    ],
    weights,
    nodes,
  });
}

const f32 = (shape: number[], seed: number) => ({
  dtype: 'F32' as const,
  shape,
  data: normalArray(
    shape.reduce((a, b) => a * b, 1),
    seed,
  ),
});

/** GPT2LMHeadModel's tensors: `transformer.` on the encoder, c_attn [in, 3·out], buffers. */
function gpt2Checkpoint(): TensorMap {
  return new Map([
    ['transformer.wte.weight', f32([6, D], 1)],
    ['transformer.wpe.weight', f32([POSITIONS, D], 2)],
    ['transformer.h.0.attn.c_attn.weight', f32([D, 3 * D], 3)],
    ['transformer.h.0.attn.c_attn.bias', f32([3 * D], 4)],
    ['transformer.h.0.attn.bias', f32([1, 1, POSITIONS, POSITIONS], 5)],
    ['transformer.h.0.attn.masked_bias', f32([], 6)],
  ]);
}

describe('weights from a checkpoint', () => {
  it("derive Conv1D weights: x·c_attn[:, rows] + bias[rows], as GPT-2's Conv1D computes", async () => {
    const notices: string[] = [];
    const rt = await Runtime.create({ backend: 'cpu', onNotice: (n) => notices.push(n) });
    const file = gpt2Checkpoint();
    const model = await rt.load(gpt2Program(), file);
    expect(notices).toEqual([]);
    const out = await model.run({ input_ids: ids([[3, 0, 5]]) });
    const t = (name: string) => file.get(`transformer.${name}`)!.data as Float32Array;
    const [wte, wpe, w, b] = [
      t('wte.weight'),
      t('wpe.weight'),
      t('h.0.attn.c_attn.weight'),
      t('h.0.attn.c_attn.bias'),
    ];
    [3, 0, 5].forEach((id, pos) => {
      const h = Array.from({ length: D }, (_, i) => wte[id * D + i]! + wpe[pos * D + i]!);
      for (let o = 0; o < D; o++) {
        // q (columns 0..D-1) plus k (columns D..2D-1) of the fused projection.
        let y = b[o]! + b[D + o]!;
        for (let i = 0; i < D; i++) y += h[i]! * (w[i * 3 * D + o]! + w[i * 3 * D + D + o]!);
        expect(out.last_hidden_state.data[pos * D + o]).toBeCloseTo(y, 5);
      }
    });
    // The tied head: logits = last_hidden_state · wteᵀ.
    expect(out.logits!.shape).toEqual([1, 3, 6]);
    let logit = 0;
    for (let i = 0; i < D; i++) logit += out.last_hidden_state.data[D + i]! * wte[4 * D + i]!;
    expect(out.logits!.data[6 + 4]).toBeCloseTo(logit, 5);
  });

  it('name a missing or mis-shaped source tensor, and pass unknown tensors to the notice', async () => {
    const notices: string[] = [];
    const rt = await Runtime.create({ backend: 'cpu', onNotice: (n) => notices.push(n) });
    const missing = gpt2Checkpoint();
    missing.delete('transformer.h.0.attn.c_attn.weight');
    await expect(rt.load(gpt2Program(), missing)).rejects.toThrow(
      new WeightError(["1 tensor is missing: 'h.0.attn.c_attn.weight'"]),
    );
    const narrow = gpt2Checkpoint().set('transformer.h.0.attn.c_attn.weight', f32([D, D], 7));
    await expect(rt.load(gpt2Program(), narrow)).rejects.toThrow(
      new WeightError([
        "tensor 'transformer.h.0.attn.c_attn.weight' has shape [4, 4], but the model reads weight 'h.0.attn.k.weight' [4, 4] as rows [4, 8) of its transpose",
      ]),
    );
    const extra = gpt2Checkpoint().set('transformer.h.0.extra', f32([2], 8));
    await rt.load(gpt2Program(), extra);
    expect(notices).toEqual([
      "ignored 1 tensor that graph 'default' does not read: transformer.h.0.extra",
    ]);
  });

  it('take the family prefix per tensor: encoder under bert., the head at the top', async () => {
    const notices: string[] = [];
    const rt = await Runtime.create({ backend: 'cpu', onNotice: (n) => notices.push(n) });
    const program = bertProgram();
    const file = bertCheckpoint(program);
    expect(
      [...file.keys()].filter((n) => n.includes('pooler') || n.startsWith('classifier')),
    ).toEqual([
      'bert.pooler.dense.weight',
      'bert.pooler.dense.bias',
      'classifier.weight',
      'classifier.bias',
    ]);
    file.set('bert.embeddings.position_ids', {
      dtype: 'I64',
      shape: [1, POSITIONS],
      data: new Int32Array(POSITIONS),
    });
    const input = { input_ids: ids([[2, 3, 4]]) };
    const prefixed = await (await rt.load(program, file)).run(input);
    // The same tensors without any prefix, as a bare encoder's file names them.
    const bare = new Map([...file].map(([n, t]) => [n.replace(/^bert\./, ''), t]));
    const plain = await (await rt.load(program, bare)).run(input);
    expect([...plain.logits!.data]).toEqual([...prefixed.logits!.data]);
    expect(notices).toEqual([]);
    const twice = new Map(file)
      .set('classifier.bias', file.get('classifier.bias')!)
      .set('bert.classifier.bias', file.get('classifier.bias')!);
    await expect(rt.load(program, twice)).rejects.toThrow(
      new WeightError([
        "tensor 'classifier.bias' is given twice, as 'classifier.bias' and 'bert.classifier.bias'",
      ]),
    );
    // Another family's prefix is not this one's.
    const roberta = new Map([...file].map(([n, t]) => [n.replace(/^bert\./, 'roberta.'), t]));
    await expect(rt.load(program, roberta)).rejects.toThrow(
      /^7 tensors are missing: 'embeddings.word_embeddings.weight'/,
    );
  });
});

describe('checkpoint directories', () => {
  const tensors = {
    'bert.a': { shape: [2], data: Float32Array.from([1, 2]) },
    'bert.b': { shape: [1], data: Float32Array.from([3]) },
    'classifier.weight': { shape: [1], data: Float32Array.from([4]) },
  };
  const directory = (files: Record<string, string | Uint8Array>) => {
    const dir = mkdtempSync(join(tmpdir(), 'adapt-ckpt-'));
    for (const [name, content] of Object.entries(files)) writeFileSync(join(dir, name), content);
    return dir;
  };
  const shard = (names: (keyof typeof tensors)[]) =>
    saveSafetensors(Object.fromEntries(names.map((n) => [n, tensors[n]])));
  const index = (map: Record<string, string>) =>
    JSON.stringify({ metadata: { total_size: 16 }, weight_map: map });
  const sharded = {
    'model.safetensors.index.json': index({
      'bert.a': 'model-00001-of-00002.safetensors',
      'bert.b': 'model-00001-of-00002.safetensors',
      'classifier.weight': 'model-00002-of-00002.safetensors',
    }),
    'model-00001-of-00002.safetensors': shard(['bert.a', 'bert.b']),
    'model-00002-of-00002.safetensors': shard(['classifier.weight']),
  };

  it('read model.safetensors, or every shard of the index into one map', () => {
    const single = directory({
      'model.safetensors': shard(['bert.a', 'bert.b', 'classifier.weight']),
    });
    expect([...readCheckpointWeights('/', single).tensors.keys()]).toEqual([
      'bert.a',
      'bert.b',
      'classifier.weight',
    ]);
    const dir = directory(sharded);
    const read = readCheckpointWeights('/', dir);
    expect([...read.tensors.keys()].sort()).toEqual(['bert.a', 'bert.b', 'classifier.weight']);
    expect(read.files).toEqual([
      join(dir, 'model-00001-of-00002.safetensors'),
      join(dir, 'model-00002-of-00002.safetensors'),
    ]);
    expect([...read.tensors.get('classifier.weight')!.data]).toEqual([4]);
    // --weights DIR reads the same way.
    expect([...readWeightFiles('/', [dir])[0]!.keys()].sort()).toEqual([
      'bert.a',
      'bert.b',
      'classifier.weight',
    ]);
  });

  it('read the tokenizer beside the weights, naming the file of a bad one', () => {
    const weights = shard(['bert.a', 'bert.b', 'classifier.weight']);
    const bare = directory({ 'model.safetensors': weights });
    expect(readCheckpoint('/', join(bare, 'spec.adapt'), '.').tokenizer).toBeUndefined();
    const dir = directory({
      'model.safetensors': weights,
      'tokenizer.json': JSON.stringify({ model: { type: 'Unigram' } }),
    });
    expect(() => readCheckpoint('/', '/spec.adapt', dir)).toThrow(
      new RegExp(`^${join(dir, 'tokenizer.json')}: error: model\\.type: `),
    );
  });

  it('read the shard index strictly', () => {
    const broken = (files: Record<string, string | Uint8Array>) => {
      const dir = directory({ ...sharded, ...files });
      return { dir, error: () => readCheckpointWeights('/', dir) };
    };
    const indexPath = (dir: string) => join(dir, 'model.safetensors.index.json');
    let { dir, error } = broken({
      'model.safetensors.index.json': index({ 'bert.a': 'model-00003.safetensors' }),
    });
    expect(error).toThrow(
      `${indexPath(dir)}: error: weight_map["bert.a"]: the shard ${join(dir, 'model-00003.safetensors')} does not exist`,
    );
    ({ dir, error } = broken({
      'model.safetensors.index.json': index({
        'bert.a': 'model-00002-of-00002.safetensors',
        'bert.b': 'model-00001-of-00002.safetensors',
        'classifier.weight': 'model-00002-of-00002.safetensors',
      }),
    }));
    expect(error).toThrow(
      `${indexPath(dir)}: error: tensor 'bert.a' is listed in model-00002-of-00002.safetensors, but ${join(dir, 'model-00002-of-00002.safetensors')} does not hold it`,
    );
    ({ dir, error } = broken({
      'model-00002-of-00002.safetensors': shard(['bert.b', 'classifier.weight']),
    }));
    expect(error).toThrow(
      `${join(dir, 'model-00002-of-00002.safetensors')}: error: tensor 'bert.b' is not listed for this shard in ${indexPath(dir)}; an earlier shard holds it too`,
    );
    ({ dir, error } = broken({
      'model.safetensors.index.json': index({ 'bert.a': '../model-00001-of-00002.safetensors' }),
    }));
    expect(error).toThrow(
      `${indexPath(dir)}: error: weight_map["bert.a"]: '../model-00001-of-00002.safetensors' is not a file name; shards sit beside the index`,
    );
    ({ dir, error } = broken({
      'model.safetensors.index.json': JSON.stringify({ weight_map: {}, shards: 2 }),
    }));
    expect(error).toThrow(
      `${indexPath(dir)}: error: shards: is not a key of a shard index ('metadata', 'weight_map')`,
    );
    ({ dir, error } = broken({ 'model.safetensors.index.json': '{"weight_map": ' }));
    expect(error).toThrow(new RegExp(`^${indexPath(dir)}: error: not JSON \\(`));
    ({ dir, error } = broken({ 'model.safetensors': shard(['bert.a']) }));
    expect(error).toThrow(
      `${dir}: error: holds both model.safetensors and model.safetensors.index.json; keep the one the checkpoint was saved as`,
    );
    const empty = mkdtempSync(join(tmpdir(), 'adapt-ckpt-'));
    mkdirSync(join(empty, 'model.safetensors'));
    expect(() => readCheckpointWeights('/', empty)).toThrow(
      `${empty}: error: no weights: neither model.safetensors nor model.safetensors.index.json`,
    );
  });
});

/** Splits on spaces, ids by a fixed table; [CLS]=1 first, padding 0 on the right. */
const TABLE: Record<string, number> = { good: 2, bad: 3, film: 4, very: 5 };
const spaceTokenizer: BatchTokenizer = {
  encodeBatch(texts, { maxLength, padId }) {
    const rows = texts.map((text) => ['[CLS]', ...text.split(' ')].slice(0, maxLength));
    const seq = Math.max(...rows.map((r) => r.length));
    const inputIds = new Int32Array(texts.length * seq).fill(padId ?? 0);
    const attentionMask = new Int32Array(texts.length * seq);
    rows.forEach((row, b) =>
      row.forEach((token, t) => {
        inputIds[b * seq + t] = token === '[CLS]' ? 1 : TABLE[token]!;
        attentionMask[b * seq + t] = 1;
      }),
    );
    return {
      inputIds,
      attentionMask,
      tokenTypeIds: new Int32Array(texts.length * seq),
      batch: texts.length,
      seq,
      tokens: rows,
      words: rows.map((row) => row.map((_, t) => (t === 0 ? null : t - 1))),
      truncated: texts.flatMap((text, i) => (text.split(' ').length + 1 > maxLength ? [i] : [])),
    };
  },
};

describe('classify', () => {
  async function loaded(program: Program, tokenizer: BatchTokenizer | null = spaceTokenizer) {
    const notices: string[] = [];
    const rt = await Runtime.create({ backend: 'cpu', onNotice: (n) => notices.push(n) });
    const model = await rt.load(program, bertCheckpoint(program), tokenizer ? { tokenizer } : {});
    return { model, notices };
  }

  it('gives each text its labels by softmax score, best first, from the logits in f64', async () => {
    const { model } = await loaded(bertProgram());
    const texts = ['good film', 'very bad film'];
    const results = await model.classify(texts);
    const { logits } = await model.run({
      input_ids: ids([
        [1, 2, 4, 0],
        [1, 5, 3, 4],
      ]),
      attention_mask: ids([
        [1, 1, 1, 0],
        [1, 1, 1, 1],
      ]),
    });
    results.forEach((labels, b) => {
      const row = [...logits!.data.slice(3 * b, 3 * b + 3)].map(Number);
      const exp = row.map((x) => Math.exp(x - Math.max(...row)));
      const expected = LABELS.map((label, i) => ({
        label,
        score: exp[i]! / exp.reduce((a, c) => a + c),
      })).sort((x, y) => y.score - x.score);
      expect(labels.map((l) => l.label)).toEqual(expected.map((l) => l.label));
      labels.forEach((l, i) => expect(l.score).toBeCloseTo(expected[i]!.score, 12));
    });
    const top = await model.classify(texts, { topK: 1 });
    expect(top.map((t) => t.length)).toEqual([1, 1]);
    expect(top[0]![0]).toEqual(results[0]![0]);
  });

  it('scores a multi-label head with sigmoid, and labels each token of a token head', async () => {
    const { model } = await loaded(bertProgram('pooler', 'sigmoid'));
    const [labels] = await model.classify(['good']);
    const { logits } = await model.run({ input_ids: ids([[1, 2]]) });
    const sigmoid = [...logits!.data].map((x) => 1 / (1 + Math.exp(-x)));
    expect(labels!.map((l) => l.score)).toEqual([...sigmoid].sort((a, b) => b - a));
    const token = (await loaded(bertProgram('token'))).model;
    const [tokens] = await token.classify(['very good film']);
    expect(tokens!.map((t) => ('token' in t ? [t.token, t.word] : []))).toEqual([
      ['very', 0],
      ['good', 1],
      ['film', 2],
    ]);
    tokens!.forEach((t) => expect(LABELS).toContain(t.label));
  });

  it('encodes texts to the hidden states, with a notice for texts cut to the positions', async () => {
    const { model, notices } = await loaded(bertProgram('none'));
    const long = Array(POSITIONS + 2)
      .fill('good')
      .join(' ');
    const encoding = await model.encode(['film', long]);
    expect(encoding.last_hidden_state.shape).toEqual([2, POSITIONS, D]);
    expect(encoding.tokens[0]).toEqual(['[CLS]', 'film']);
    expect(notices).toEqual([`cut to ${POSITIONS} tokens, as the model takes no more: texts[1]`]);
    await expect(model.classify(['film'])).rejects.toThrow(
      "graph 'default' has no classification head (its checkpoint has none, or the spec says 'head none')",
    );
  });

  it('needs a tokenizer and a text program', async () => {
    const { model } = await loaded(bertProgram(), null);
    await expect(model.classify(['good'])).rejects.toThrow(
      'no tokenizer was given: load the model with { tokenizer: loadTokenizer(tokenizer.json) }',
    );
    const lm = await (
      await Runtime.create({ backend: 'cpu' })
    ).load(gpt2Program(), gpt2Checkpoint(), { tokenizer: spaceTokenizer });
    await expect(lm.classify(['good'])).rejects.toThrow(
      "graph 'default' ends in a language-model head, which predicts tokens, not labels",
    );
  });
});

const FIXTURES = 'test/fixtures/hf';

/** One checkpoint of test/fixtures/hf/cases.json, with PyTorch's results. */
interface FixtureCase {
  readonly name: string;
  readonly dir: string;
  readonly head: string;
  readonly input_ids: number[][];
  readonly attention_mask: number[][];
  readonly position_ids: number[][];
  readonly texts: {
    readonly text: string;
    readonly tokens: string[];
    readonly scores?: Record<string, number>;
    readonly token_labels?: string[];
  }[];
}

const FIXTURE_CASES = (
  JSON.parse(readFileSync(join(FIXTURES, 'cases.json'), 'utf8')) as { checkpoints: FixtureCase[] }
).checkpoints;

const SPEC_PATH = join(FIXTURES, 'spec.adapt');

/** The spec compiled as the CLI compiles it, config.json read beside the spec. */
function compileFixture(spec: string, fuse: boolean) {
  const compiled = compile(spec, {
    fileName: SPEC_PATH,
    fuse,
    target: 'software',
    readFile: (path) => {
      const file = join(FIXTURES, path);
      return existsSync(file) ? readFileSync(file, 'utf8') : undefined;
    },
  });
  expect(compiled.diagnostics).toEqual([]);
  return compiled.program!;
}

/** The checkpoint's graph, its weights read from the directory, and its tokenizer. */
async function fixtureModel(entry: FixtureCase, runtime?: Runtime) {
  const program = compileFixture(`model tiny from "${entry.dir}"\n`, runtime !== undefined);
  const checkpoint = readCheckpoint('.', SPEC_PATH, entry.dir);
  expect(checkpoint.dir).toBe(join(FIXTURES, entry.dir));
  const notices: string[] = [];
  const rt =
    runtime ?? (await Runtime.create({ backend: 'cpu', onNotice: (n) => notices.push(n) }));
  const model = await rt.load(program, checkpoint.weights.tensors, {
    tokenizer: checkpoint.tokenizer!,
  });
  return { program, model, notices };
}

describe('the fixture checkpoints (test/fixtures/hf/)', () => {
  it.each(FIXTURE_CASES.map((entry) => [entry.name, entry] as const))(
    "%s: position ids as Hugging Face computes them, and PyTorch's labels and scores",
    async (_, entry) => {
      const { program, model, notices } = await fixtureModel(entry);
      // Every tensor of the directory is read or a known buffer.
      expect(notices).toEqual([]);
      const shape = [entry.input_ids.length, entry.input_ids[0]!.length];
      const prepared = prepareInputs(program, {
        input_ids: { data: Int32Array.from(entry.input_ids.flat()), shape },
        attention_mask: { data: Int32Array.from(entry.attention_mask.flat()), shape },
      });
      expect([...prepared.values.get('position_ids')!]).toEqual(entry.position_ids.flat());
      const texts = entry.texts.map((t) => t.text);
      if (entry.head === 'tied-embeddings') {
        const encoding = await model.encode(texts);
        expect(encoding.tokens).toEqual(entry.texts.map((t) => t.tokens));
        return;
      }
      const results = await model.classify(texts);
      entry.texts.forEach((text, b) => {
        if (text.token_labels) {
          const tokens = results[b] as TokenLabel[];
          // [CLS] and [SEP], first and last, are special tokens: classify leaves them out.
          expect(tokens.map((t) => t.token)).toEqual(text.tokens.slice(1, -1));
          expect(tokens.map((t) => t.label)).toEqual(text.token_labels.slice(1, -1));
          return;
        }
        const scores = Object.fromEntries(results[b]!.map((l) => [l.label, l.score]));
        for (const [label, score] of Object.entries(text.scores!))
          expect(Math.abs(scores[label]! - score)).toBeLessThan(1e-5);
      });
    },
  );
});

describe('the fixture checkpoints on WebGPU', () => {
  gpuIt("classify gives PyTorch's scores within 1e-4 from the fused graph's logits", async () => {
    const runtime = await gpuRuntime();
    try {
      for (const entry of FIXTURE_CASES.filter((c) => c.texts.every((t) => t.scores))) {
        const { model } = await fixtureModel(entry, runtime);
        expect(model.backend).toBe('webgpu');
        const results = await model.classify(entry.texts.map((t) => t.text));
        entry.texts.forEach((text, b) => {
          const scores = Object.fromEntries(results[b]!.map((l) => [l.label, l.score]));
          for (const [label, score] of Object.entries(text.scores!))
            expect(Math.abs(scores[label]! - score), `${entry.name} ${label}`).toBeLessThan(1e-4);
        });
        model.dispose();
      }
    } finally {
      runtime.dispose();
    }
  });
});

describe('a checkpoint with adapters', () => {
  it.each(['pfeiffer', 'fusion'])(
    "bert-seq-cls with %s adapters from a second file: PyTorch's outputs within 1e-4",
    async (kind) => {
      const program = compileFixture(
        readFileSync(join(FIXTURES, `bert-seq-cls.${kind}.adapt`), 'utf8'),
        false,
      );
      const checkpoint = readCheckpoint('.', SPEC_PATH, 'bert-seq-cls');
      const adapters = loadSafetensors(
        readFileSync(join(FIXTURES, `bert-seq-cls.${kind}.adapters.safetensors`)),
      );
      const rt = await Runtime.create({ backend: 'cpu' });
      const model = await rt.load(program, [checkpoint.weights.tensors, adapters]);
      const expected = loadSafetensors(
        readFileSync(join(FIXTURES, `bert-seq-cls.${kind}.expected.safetensors`)),
      );
      const outputs = await model.run({
        input_ids: expected.get('input_ids')!,
        attention_mask: expected.get('attention_mask')!,
      });
      for (const name of ['last_hidden_state', 'logits'] as const) {
        const want = expected.get(name)!.data;
        const got = outputs[name]!.data;
        expect(got.length).toBe(want.length);
        const worst = got.reduce((m, v, i) => Math.max(m, Math.abs(v - want[i]!)), 0);
        expect(worst, name).toBeLessThan(1e-4);
      }
    },
  );
});
