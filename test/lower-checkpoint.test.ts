import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { emitProgram } from '../src/compiler/emit-program.js';
import { checkSource } from '../src/compiler/frontend.js';
import type { IrGraph } from '../src/compiler/ir/types.js';
import { verifyGraph } from '../src/compiler/ir/verify.js';
import { lowerModel } from '../src/compiler/lower/lower.js';
import type { BaseModel, CheckpointSpec, Model } from '../src/compiler/model.js';
import { optimize } from '../src/compiler/passes/pipeline.js';
import { countParams } from '../src/compiler/params.js';
import { planGpu } from '../src/compiler/codegen/plan.js';
import { interpret } from '../src/runtime/cpu/interpreter.js';
import type { TextInputs } from '../src/runtime/inputs.js';
import { gpuIt, gpuRuntime } from './helpers/gpu.js';
import type { WeightSpec } from '../src/runtime/program.js';
import { loadSafetensors, type TensorMap } from '../src/runtime/safetensors.js';

const FIXTURES = 'test/fixtures/hf';

interface Case {
  readonly name: string;
  readonly prefix: string;
  readonly base: Omit<BaseModel, 'name' | 'span' | 'checkpoint'>;
  readonly checkpoint: CheckpointSpec;
}

const encoder = { heads: 2, layers: 2, norm: 'post', attention: 'bidirectional' } as const;

/** The fixture checkpoints as the front end reads their config.json (test/fixtures/hf/). */
const CASES: readonly Case[] = [
  {
    name: 'bert-seq-cls',
    prefix: 'bert.',
    base: { ...encoder, hidden: 32, ffn: 64, activation: 'gelu', eps: 1e-12 },
    checkpoint: {
      dir: 'bert-seq-cls',
      family: 'bert',
      architecture: 'BertForSequenceClassification',
      vocab: 44,
      maxPositions: 32,
      typeVocab: 2,
      padId: 0,
      positions: 'absolute',
      embeddingEps: 1e-12,
      head: { layout: 'pooler', labels: ['negative', 'neutral', 'positive'], scores: 'softmax' },
    },
  },
  {
    name: 'roberta-seq-cls',
    prefix: 'roberta.',
    base: { ...encoder, hidden: 16, ffn: 64, activation: 'gelu', eps: 1e-5 },
    checkpoint: {
      dir: 'roberta-seq-cls',
      family: 'roberta',
      architecture: 'RobertaForSequenceClassification',
      vocab: 58,
      maxPositions: 32,
      typeVocab: 1,
      padId: 1,
      positions: 'after-padding',
      embeddingEps: 1e-5,
      head: { layout: 'dense-tanh', labels: ['joy', 'surprise'], scores: 'sigmoid' },
    },
  },
  ...(['seq', 'token'] as const).map((kind): Case => ({
    name: `distilbert-${kind}-cls`,
    prefix: 'distilbert.',
    base: { ...encoder, hidden: 16, ffn: 64, activation: 'gelu', eps: 1e-12 },
    checkpoint: {
      dir: `distilbert-${kind}-cls`,
      family: 'distilbert',
      vocab: 44,
      maxPositions: 32,
      typeVocab: 0,
      padId: 0,
      positions: 'absolute',
      embeddingEps: 1e-12,
      head:
        kind === 'seq'
          ? { layout: 'pre-classifier-relu', labels: ['NEGATIVE', 'POSITIVE'], scores: 'softmax' }
          : {
              layout: 'token',
              labels: ['O', 'B-PER', 'I-PER', 'B-LOC', 'I-LOC'],
              scores: 'softmax',
            },
    },
  })),
  {
    name: 'gpt2-lm',
    prefix: 'transformer.',
    base: {
      hidden: 16,
      heads: 2,
      ffn: 64,
      layers: 2,
      activation: 'gelu_tanh',
      norm: 'pre',
      eps: 1e-5,
      attention: 'causal',
    },
    checkpoint: {
      dir: 'gpt2-lm',
      family: 'gpt2',
      architecture: 'GPT2LMHeadModel',
      vocab: 54,
      maxPositions: 32,
      typeVocab: 0,
      padId: 53,
      positions: 'absolute',
      head: { layout: 'tied-embeddings', labels: [], scores: 'softmax' },
    },
  },
];

/** A model for a case: a plain spec checked as usual, with the checkpoint facts on its base. */
function modelOf(entry: Case, adapters = ''): Model {
  const spec = `model m { hidden ${entry.base.hidden} heads 2 ffn ${entry.base.ffn} layers 2 }\n${adapters}`;
  const model = checkSource(spec, `${entry.name}.adapt`).model!;
  return {
    ...model,
    base: { ...model.base, ...entry.base, name: entry.name, checkpoint: entry.checkpoint },
  };
}

/** Every tensor of a checkpoint directory (one file or shards), without the task prefix where `strip`. */
function checkpointTensors(entry: Case, strip = true): TensorMap {
  const dir = join(FIXTURES, entry.checkpoint.dir);
  const index = join(dir, 'model.safetensors.index.json');
  let files = ['model.safetensors'];
  try {
    const map = JSON.parse(readFileSync(index, 'utf8')) as { weight_map: Record<string, string> };
    files = [...new Set(Object.values(map.weight_map))];
  } catch {
    // a single file
  }
  const tensors: TensorMap = new Map();
  for (const file of files) {
    for (const [name, tensor] of loadSafetensors(readFileSync(join(dir, file)), file))
      tensors.set(
        strip && name.startsWith(entry.prefix) ? name.slice(entry.prefix.length) : name,
        tensor,
      );
  }
  return tensors;
}

/** A program weight from its checkpoint tensor: as stored, or transposed and sliced by `from`. */
function derive(spec: WeightSpec, tensors: TensorMap): Float32Array {
  const source = tensors.get(spec.from?.tensor ?? spec.name);
  if (!source) throw new Error(`no tensor for ${spec.name}`);
  let data = source.data as Float32Array;
  let shape = source.shape;
  if (spec.from?.transpose) {
    const [rows, cols] = shape as [number, number];
    const out = new Float32Array(data.length);
    for (let r = 0; r < rows; r++)
      for (let c = 0; c < cols; c++) out[c * rows + r] = data[r * cols + c]!;
    data = out;
    shape = [cols, rows];
  }
  const rows = spec.from?.rows;
  if (rows) {
    const width = data.length / shape[0]!;
    data = data.slice(rows[0] * width, rows[1] * width);
  }
  expect(data.length).toBe(spec.shape.reduce((n, d) => n * d, 1));
  return data;
}

function run(
  model: Model,
  graph: IrGraph,
  weights: Map<string, Float32Array>,
  expected: TensorMap,
) {
  const program = emitProgram(model, 'default', graph);
  const ids = expected.get('input_ids')!;
  const [batch, seq] = ids.shape as [number, number];
  const values = new Map<string, Int32Array | Float32Array>();
  for (const input of program.inputs) {
    const given = expected.get(input.name);
    values.set(input.name, given ? (given.data as Int32Array) : new Int32Array(batch * seq));
  }
  return interpret(program, weights, { batch, seq, values });
}

function maxError(out: ArrayLike<number>, ref: ArrayLike<number>): number {
  expect(out.length).toBe(ref.length);
  let worst = 0;
  for (let i = 0; i < ref.length; i++) worst = Math.max(worst, Math.abs(out[i]! - ref[i]!));
  return worst;
}

describe('lowering a checkpoint model', () => {
  it.each(CASES)('$name: token inputs, family names, the head, a graph that verifies', (entry) => {
    const model = modelOf(entry);
    const graph = lowerModel(model, 'default');
    expect(verifyGraph(graph)).toEqual([]);
    const { typeVocab } = entry.checkpoint;
    expect(graph.inputs.map((i) => [i.name, i.optional ?? false])).toEqual([
      ['input_ids', false],
      ['attention_mask', true],
      ...(typeVocab > 0 ? [['token_type_ids', true]] : []),
      ['position_ids', true],
    ]);
    const { hidden: d } = entry.base;
    const head = entry.checkpoint.head!;
    const logits =
      head.layout === 'tied-embeddings'
        ? ['B', 'T', entry.checkpoint.vocab]
        : head.layout === 'token'
          ? ['B', 'T', head.labels.length]
          : ['B', head.labels.length];
    expect(graph.outputs.map((o) => [o.name, graph.nodes[o.node]!.shape])).toEqual([
      ['last_hidden_state', ['B', 'T', d]],
      ['logits', logits],
    ]);
    // Every weight comes from one checkpoint tensor, and every parameter tensor is read.
    const tensors = checkpointTensors(entry);
    const read = new Set(graph.weights.map((w) => w.from?.tensor ?? w.name));
    const parameters = [...tensors.keys()].filter(
      (name) => !/position_ids$|(^|\.)attn\.(masked_)?bias$/.test(name),
    );
    expect([...read].sort()).toEqual(parameters.sort());
    for (const weight of graph.weights) derive(weight, tensors);
  });

  it('splits GPT-2 c_attn into q, k, v rows of its transpose and transposes every Conv1D', () => {
    const graph = lowerModel(modelOf(CASES.at(-1)!), 'default');
    const byName = new Map(graph.weights.map((w) => [w.name, w]));
    expect(byName.get('h.1.attn.c_attn.k.weight')).toEqual({
      name: 'h.1.attn.c_attn.k.weight',
      shape: [16, 16],
      init: { kind: 'normal', std: 0.02 },
      from: { tensor: 'h.1.attn.c_attn.weight', transpose: true, rows: [16, 32] },
    });
    expect(byName.get('h.1.attn.c_attn.v.bias')!.from).toEqual({
      tensor: 'h.1.attn.c_attn.bias',
      rows: [32, 48],
    });
    expect(byName.get('h.0.mlp.c_fc.weight')).toMatchObject({
      shape: [64, 16],
      from: { tensor: 'h.0.mlp.c_fc.weight', transpose: true },
    });
    expect(byName.get('wte.weight')!.shape).toEqual([54, 16]);
    expect(byName.has('ln_f.weight')).toBe(true);
  });

  it('places adapters under the family module: AdapterHub names for DistilBERT and GPT-2', () => {
    const adapter = 'adapter a { bottleneck 4 at attn, ffn }\ngraph default = a\n';
    const names = (entry: Case) =>
      lowerModel(modelOf(entry, adapter), 'default')
        .weights.map((w) => w.name)
        .filter((name) => name.includes('adapters.a.adapter_down') && name.endsWith('weight'))
        .slice(0, 2);
    expect(names(CASES[0]!)).toEqual([
      'encoder.layer.0.attention.output.adapters.a.adapter_down.0.weight',
      'encoder.layer.0.output.adapters.a.adapter_down.0.weight',
    ]);
    expect(names(CASES[2]!)).toEqual([
      'transformer.layer.0.attention_adapters.adapters.a.adapter_down.0.weight',
      'transformer.layer.0.output_adapters.adapters.a.adapter_down.0.weight',
    ]);
    expect(names(CASES.at(-1)!)).toEqual([
      'h.0.attention_adapters.adapters.a.adapter_down.0.weight',
      'h.0.output_adapters.adapters.a.adapter_down.0.weight',
    ]);
  });

  it('emits model.text from the checkpoint', () => {
    const entry = CASES[1]!;
    const model = modelOf(entry);
    const program = emitProgram(model, 'default', lowerModel(model, 'default'));
    expect(program.model.text).toEqual({
      family: 'roberta',
      vocab: 58,
      maxPositions: 32,
      typeVocab: 1,
      padId: 1,
      positions: 'after-padding',
      head: { layout: 'dense-tanh', labels: ['joy', 'surprise'], scores: 'sigmoid' },
    });
  });

  it.each(CASES)('$name: adapt params counts every tensor of the checkpoint', (entry) => {
    const report = countParams(modelOf(entry), 'default');
    let total = 0;
    for (const [name, tensor] of checkpointTensors(entry))
      if (!name.endsWith('position_ids')) total += tensor.shape.reduce((n, d) => n * d, 1);
    expect(report.totals.base).toBe(total);
    expect(report.base.total).toBe(report.base.perLayer * 2 + report.base.checkpoint!.total);
  });

  describe.each(CASES)('$name on the CPU reference against PyTorch', (entry) => {
    const model = modelOf(entry);
    const lowered = lowerModel(model, 'default');
    const tensors = checkpointTensors(entry);
    const weights = new Map(lowered.weights.map((w) => [w.name, derive(w, tensors)]));
    const expected = loadSafetensors(
      readFileSync(join(FIXTURES, `${entry.name}.expected.safetensors`)),
    );

    it.each([
      ['as lowered', lowered],
      ['after the passes', optimize(lowered)],
    ])('%s: last_hidden_state and logits within 1e-4', (_, graph) => {
      expect(verifyGraph(graph)).toEqual([]);
      const outputs = run(model, graph, weights, expected);
      for (const name of ['last_hidden_state', 'logits']) {
        const want = expected.get(name)!;
        expect(outputs[name]!.shape).toEqual(want.shape);
        expect(maxError(outputs[name]!.data, want.data as Float32Array), name).toBeLessThan(1e-4);
      }
    });
  });

  describe.each(['pfeiffer', 'fusion'])('bert-seq-cls with the %s adapter fixture', (kind) => {
    const entry = CASES[0]!;
    const spec = readFileSync(join(FIXTURES, `bert-seq-cls.${kind}.adapt`), 'utf8');
    const model = modelOf(entry, spec.replace(/^model .*$/m, ''));
    const lowered = lowerModel(model, 'default');
    const tensors = checkpointTensors(entry);
    const adapters = loadSafetensors(
      readFileSync(join(FIXTURES, `bert-seq-cls.${kind}.adapters.safetensors`)),
    );
    for (const [name, tensor] of adapters) tensors.set(name, tensor);
    const weights = new Map(lowered.weights.map((w) => [w.name, derive(w, tensors)]));
    const expected = loadSafetensors(
      readFileSync(join(FIXTURES, `bert-seq-cls.${kind}.expected.safetensors`)),
    );

    it.each([
      ['as lowered', lowered],
      ['after the passes', optimize(lowered)],
    ])('%s: within 1e-4 of PyTorch', (_, graph) => {
      const outputs = run(model, graph, weights, expected);
      for (const name of ['last_hidden_state', 'logits'])
        expect(
          maxError(outputs[name]!.data, expected.get(name)!.data as Float32Array),
          name,
        ).toBeLessThan(1e-4);
    });
  });

  describe('on WebGPU against PyTorch', () => {
    gpuIt(
      'every family, fused, software and gpu profiles: last_hidden_state within 1e-4',
      async () => {
        const runtime = await gpuRuntime();
        try {
          for (const entry of CASES) {
            for (const target of ['software', 'gpu'] as const) {
              const model = modelOf(entry);
              const lowered = lowerModel(model, 'default');
              const optimized = optimize(lowered);
              const program = emitProgram(model, 'default', optimized, {
                gpu: planGpu(optimized, target, true),
                weights: lowered.weights,
              });
              const expected = loadSafetensors(
                readFileSync(join(FIXTURES, `${entry.name}.expected.safetensors`)),
              );
              const inputs: Record<string, { data: Int32Array; shape: readonly number[] }> = {};
              for (const input of program.inputs) {
                const given = expected.get(input.name);
                if (given)
                  inputs[input.name] = { data: given.data as Int32Array, shape: given.shape };
              }
              const loaded = await runtime.load(program, checkpointTensors(entry, false));
              try {
                const outputs = await loaded.run(inputs as unknown as TextInputs);
                const want = expected.get('last_hidden_state')!;
                expect(
                  maxError(outputs.last_hidden_state.data, want.data as Float32Array),
                  `${entry.name} ${target}`,
                ).toBeLessThan(1e-4);
              } finally {
                loaded.dispose();
              }
            }
          }
        } finally {
          runtime.dispose();
        }
      },
    );
  });
});
