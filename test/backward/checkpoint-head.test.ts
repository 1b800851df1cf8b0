import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { compile } from '../../src/compiler/index.js';
import {
  ADAMW_DEFAULTS,
  adamwState,
  adamwStep,
  BackwardError,
  backward,
  backwardFrom,
  crossEntropy,
  forward64,
} from '../../src/runtime/cpu/backward/index.js';
import { interpret } from '../../src/runtime/cpu/interpreter.js';
import { prepareInputs } from '../../src/runtime/inputs.js';
import type { Program } from '../../src/runtime/program.js';
import { seededUniform } from '../../src/runtime/random.js';
import { relativeError } from '../helpers/numerics.js';
import { checkGraphGradients, randomWeights } from './finite-differences.js';

const FIXTURES = join(import.meta.dirname, '..', 'fixtures', 'hf');
const SPEC = `model tiny from "bert-seq-cls"
adapter pf { bottleneck 8 activation gelu at ffn }
graph default = pf
`;

function checkpointProgram(source = SPEC): Program {
  const result = compile(source, {
    fuse: false,
    gpu: false,
    readFile: (path) => {
      const file = join(FIXTURES, path);
      return existsSync(file) ? readFileSync(file, 'utf8') : undefined;
    },
  });
  expect(result.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
  return result.program!;
}

function textInputs(program: Program, batch: number, seq: number, seed: number) {
  const uniform = seededUniform(seed);
  const vocab = program.model.text!.vocab;
  const ids = Int32Array.from(
    { length: batch * seq },
    () => 1 + Math.floor(uniform() * (vocab - 1)),
  );
  const mask = Int32Array.from({ length: batch * seq }, (_, i) =>
    i % seq < seq - (i % 2) ? 1 : 0,
  );
  return prepareInputs(program, {
    input_ids: { data: ids, shape: [batch, seq] },
    attention_mask: { data: mask, shape: [batch, seq] },
  });
}

describe('training a checkpoint adapter and its head through cross-entropy', () => {
  const program = checkpointProgram();
  const weights = randomWeights(program, 9);
  const inputs = textInputs(program, 3, 6, 10);
  const labels = [2, 0, 1];
  const classes = program.model.text!.head!.labels.length;
  const trained = program.weights
    .map((w) => w.name)
    .filter(
      (n) => n.includes('adapters.pf.') || n.startsWith('classifier.') || n.includes('pooler'),
    );

  const lossOf = (probe: ReadonlyMap<string, Float32Array | Float64Array>) =>
    crossEntropy(forward64(program, probe, inputs).outputs.logits!.data, classes, labels).loss;

  it('runs the embeddings, pooler and classifier, and the f64 forward equals the interpreter', () => {
    const ops = new Set(program.nodes.map((n) => n.op));
    for (const op of ['gather', 'first_token', 'tanh', 'layer_norm', 'attention']) {
      expect(ops.has(op as never), op).toBe(true);
    }
    const reference = interpret(program, weights, inputs).logits!.data;
    expect(
      relativeError(forward64(program, weights, inputs).outputs.logits!.data, reference),
    ).toBeLessThan(1e-6);
  });

  it('gives every trained tensor the gradient finite differences give', () => {
    const forward = forward64(program, weights, inputs);
    expect(forward.outputs.logits!.shape).toEqual([3, classes]);
    const { gradient } = crossEntropy(forward.outputs.logits!.data, classes, labels);
    const gradients = backwardFrom(program, forward, { output: 'logits', gradient }, trained);
    expect(trained.length).toBeGreaterThan(8);
    const pick = seededUniform(12);
    const h = 1e-5;
    for (const name of trained) {
      const tensor = Float64Array.from(weights.get(name)!);
      const probe = new Map<string, Float32Array | Float64Array>(weights).set(name, tensor);
      let worst = 0;
      let largest = 0;
      for (let n = 0; n < 6; n++) {
        const i = Math.floor(pick() * tensor.length);
        const original = tensor[i]!;
        tensor[i] = original + h;
        const up = lossOf(probe);
        tensor[i] = original - h;
        const down = lossOf(probe);
        tensor[i] = original;
        const numeric = (up - down) / (2 * h);
        worst = Math.max(worst, Math.abs(gradients.get(name)![i]! - numeric));
        largest = Math.max(largest, Math.abs(numeric));
      }
      expect(largest, name).toBeGreaterThan(1e-5);
      expect(worst / largest, name).toBeLessThan(1e-6);
    }
  });

  it('lowers the loss on its batch under AdamW, as the documented training step does', () => {
    const own = new Map(weights);
    for (const name of trained) own.set(name, Float32Array.from(weights.get(name)!));
    const states = new Map(trained.map((name) => [name, adamwState(own.get(name)!.length)]));
    const losses: number[] = [];
    for (let step = 0; step < 15; step++) {
      const forward = forward64(program, own, inputs);
      const { loss, gradient } = crossEntropy(forward.outputs.logits!.data, classes, labels);
      losses.push(loss);
      const gradients = backwardFrom(program, forward, { output: 'logits', gradient }, trained);
      const options = { ...ADAMW_DEFAULTS, lr: 1e-2 };
      for (const name of trained) {
        adamwStep(own.get(name)!, gradients.get(name)!, states.get(name)!, options);
      }
    }
    expect(losses.at(-1)!).toBeLessThan(0.5 * losses[0]!);
    // The frozen weights are the very arrays passed in, untouched.
    const frozen = program.weights.find((w) => !trained.includes(w.name))!.name;
    expect(own.get(frozen)).toBe(weights.get(frozen));
  });

  it('refuses to train the word embeddings', () => {
    const seed = { output: 'logits', gradient: new Float64Array(3 * classes).fill(1) };
    const table = program.weights.find((w) => w.name.includes('word_embeddings'))!.name;
    expect(() => backward(program, weights, inputs, seed, [table])).toThrow(BackwardError);
    expect(() => backward(program, weights, inputs, seed, [table])).toThrow(/embedding table/);
  });
});

describe('a GPT-2 adapter under the tied language-model head', () => {
  it('gets the gradient finite differences give, the word table frozen', () => {
    const program = checkpointProgram(
      'model tiny from "gpt2-lm"\nadapter s { bottleneck 4 activation gelu_tanh at attn, ffn }\ngraph default = s\n',
    );
    expect(program.model.attention).toBe('causal');
    const head = program.nodes[program.outputs.find((o) => o.name === 'logits')!.node]!;
    const table = program.nodes[head.inputs[1]!]!;
    expect([head.op, table.op === 'weight' && table.attrs.name]).toEqual(['matmul', 'wte.weight']);
    const weights = randomWeights(program, 13);
    const inputs = textInputs(program, 2, 5, 14);
    const trained = program.weights.map((w) => w.name).filter((n) => n.includes('adapters.s.'));
    const checks = checkGraphGradients(program, weights, inputs, trained, 15, {
      perTensor: 4,
      output: 'logits',
    });
    for (const check of checks) {
      expect(check.largest, check.name).toBeGreaterThan(1e-4);
      expect(check.worst, check.name).toBeLessThan(1e-6 * check.largest + 1e-9);
    }
  });
});
