import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect } from 'vitest';
import { compile } from '../../src/compiler/index.js';
import { prepareInputs, type PreparedInputs } from '../../src/runtime/inputs.js';
import type { Program } from '../../src/runtime/program.js';
import { seededUniform } from '../../src/runtime/random.js';
import { IGNORED_LABEL, type StepSettings } from '../../src/runtime/training/backend.js';
import { createWebGpuTrainer } from '../../src/runtime/webgpu/training/index.js';
import { randomInputs, randomWeights, weightsNamed } from '../backward/finite-differences.js';
import { gpuIt } from '../helpers/gpu.js';
import { disposeSharedDevice, sharedDevice } from './device.js';
import { distance, norm, referenceSteps } from './reference.js';

/**
 * The WebGPU backward pass and AdamW against the CPU reference (f64): the gradients of one step
 * and the weights after three, per trained tensor, within 1e-4 of the reference's norm. The GPU
 * runs the forward pass in f32 and sums in f32, about 1e-6 relative per value on these sizes;
 * 1e-4 leaves room for the long sums of the weight gradients (docs/training-webgpu.md).
 */
const TOLERANCE = 1e-4;
/**
 * A floor of 1e-6 of the largest tensor's gradient norm, for tensors whose gradient is zero in
 * exact arithmetic (a fusion's key bias: the softmax over the members does not see it) or
 * nearly so (a gate a LayerNorm undoes but for its eps): there the GPU's is f32 rounding.
 */
const FLOOR = 1e-6;

/** Below this fraction of the largest gradient norm, a tensor's gradient is mostly rounding. */
const NOISE_ONLY = 1e-3;

const SETTINGS: StepSettings = { lr: 1e-3, weightDecay: 0.01, beta1: 0.9, beta2: 0.999, eps: 1e-8 };
const MODEL = 'model m { hidden 8 heads 2 ffn 16 layers 2 }';
const FIXTURES = join(import.meta.dirname, '..', 'fixtures', 'hf');

interface Case {
  readonly name: string;
  readonly source: string;
  readonly trained: readonly string[];
}

const HIDDEN_CASES: Case[] = [
  {
    name: 'a Pfeiffer adapter',
    source: `${MODEL}\nadapter a { bottleneck 4 at ffn }`,
    trained: ['adapters.a.'],
  },
  {
    name: 'a Houlsby adapter (attn and ffn), gelu',
    source: `${MODEL}\nadapter h { bottleneck 3 activation gelu at attn, ffn }`,
    trained: ['adapters.h.'],
  },
  {
    name: 'a parallel, scaled adapter with tanh',
    source: `${MODEL}\nadapter p { bottleneck 4 activation tanh parallel ffn scale 2.5 }`,
    trained: ['adapters.p.'],
  },
  {
    name: 'a stack, training the second (silu, gelu_tanh)',
    source: `${MODEL}\nadapter s { bottleneck 2 activation silu at attn }\nadapter t { bottleneck 3 activation gelu_tanh at ffn scale 0.5 }\ngraph default = stack(s, t)`,
    trained: ['adapters.t.'],
  },
  {
    name: 'an AdapterFusion over frozen adapters',
    source: `${MODEL}\nadapter a { bottleneck 4 at ffn }\nadapter b { bottleneck 3 activation gelu at ffn }\nfusion f { adapters a, b at ffn temperature 0.7 }\ngraph default = f`,
    trained: ['adapter_fusion_layer.f.'],
  },
  {
    name: 'a causal pre-LN model',
    source: `model g { hidden 8 heads 2 ffn 16 layers 2 norm pre attention causal activation gelu_tanh }\nadapter a { bottleneck 4 at attn, ffn }`,
    trained: ['adapters.a.'],
  },
  {
    name: 'an average of two adapters',
    source: `${MODEL}\nadapter a { bottleneck 4 at ffn }\nadapter b { bottleneck 2 at ffn }\ngraph default = average(a: 0.7, b: 0.3)`,
    trained: ['adapters.a.', 'adapters.b.'],
  },
  {
    name: 'an AdapterHub adapter with its own LayerNorms, a gate and a scale per channel',
    source: `${MODEL}\nadapter g { bottleneck 4 at ffn original_ln_before true ln_before true ln_after true gating true residual_before_ln false scale channel }`,
    trained: ['adapters.g.'],
  },
  {
    name: 'an AdapterHub adapter with a gate and a learned scale (leaky_relu)',
    source: `${MODEL}\nadapter g { bottleneck 4 activation leaky_relu at attn gating true scale learned }`,
    trained: ['adapters.g.'],
  },
  {
    name: 'a scaled parallel AdapterHub adapter',
    source: `${MODEL}\nadapter s { preset scaled_par_bn bottleneck 3 }`,
    trained: ['adapters.s.'],
  },
  {
    name: 'a batch(...) graph routing sequences to two adapters',
    source: `${MODEL}\nadapter a { bottleneck 4 at ffn }\nadapter b { bottleneck 3 activation sigmoid at attn }\ngraph default = batch(a, b)`,
    trained: ['adapters.a.', 'adapters.b.'],
  },
];

function compileUnfused(source: string): Program {
  const result = compile(source, {
    fuse: false,
    readFile: (path) => {
      const file = join(FIXTURES, path);
      return existsSync(file) ? readFileSync(file, 'utf8') : undefined;
    },
  });
  expect(result.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
  return result.program!;
}

/** A label per token, IGNORED_LABEL where the mask pads and at one position in five. */
function tokenLabels(inputs: PreparedInputs, classes: number, seed: number): Int32Array {
  const mask = inputs.values.get('attention_mask') as Int32Array | undefined;
  const uniform = seededUniform(seed);
  return Int32Array.from({ length: inputs.batch * inputs.seq }, (_, i) => {
    const label = Math.floor(uniform() * classes);
    return (mask && mask[i] === 0) || uniform() < 0.2 ? IGNORED_LABEL : label;
  });
}

/** Token ids of the checkpoint's vocabulary, the last position of odd sequences padded. */
function textInputs(program: Program, batch: number, seq: number, seed: number): PreparedInputs {
  const uniform = seededUniform(seed);
  const vocab = program.model.text!.vocab;
  return prepareInputs(program, {
    input_ids: {
      data: Int32Array.from({ length: batch * seq }, () => 1 + Math.floor(uniform() * (vocab - 1))),
      shape: [batch, seq],
    },
    attention_mask: {
      data: Int32Array.from({ length: batch * seq }, (_, i) =>
        i % seq < seq - (((i / seq) % 2) | 0) ? 1 : 0,
      ),
      shape: [batch, seq],
    },
  });
}

async function checkAgainstReference(
  program: Program,
  trainedParts: readonly string[],
  inputs: PreparedInputs,
  labels: Int32Array,
  output: string,
  seed: number,
): Promise<void> {
  const weights = randomWeights(program, seed);
  const trained = weightsNamed(program, ...trainedParts);
  expect(trained.length).toBeGreaterThan(0);
  const outputNode = program.nodes[program.outputs.find((o) => o.name === output)!.node]!;
  const classes = outputNode.shape[outputNode.shape.length - 1] as number;
  const reference = referenceSteps(program, weights, inputs, labels, trained, output, SETTINGS, 3);
  const gpu = await sharedDevice();
  const trainer = await createWebGpuTrainer(
    { program, weights, trained, output, classes },
    { device: gpu.device, target: gpu.adapter.profile },
  );
  try {
    const first = await trainer.step({ inputs, labels }, SETTINGS);
    expect(Math.abs(first.loss - reference.losses[0]!) / reference.losses[0]!).toBeLessThan(1e-5);
    const gradients = await trainer.lastGradients();
    const largest = Math.max(...trained.map((n) => norm(reference.gradients.get(n)!)));
    expect(largest).toBeGreaterThan(1e-4);
    for (const name of trained) {
      const expected = reference.gradients.get(name)!;
      const error = distance(gradients.get(name)!, expected);
      expect(error, `dLoss/d${name}`).toBeLessThanOrEqual(
        TOLERANCE * norm(expected) + FLOOR * largest,
      );
    }
    for (let step = 1; step < 3; step++) {
      const { loss } = await trainer.step({ inputs, labels }, SETTINGS);
      expect(Math.abs(loss - reference.losses[step]!) / reference.losses[step]!).toBeLessThan(1e-5);
    }
    const after = await trainer.trainedWeights();
    for (const name of trained) {
      // AdamW scales each element's step by its gradient's own size, so a gradient that is f32
      // rounding noise (zero in exact arithmetic) takes full-size steps: such tensors are held
      // to the gradient check above only.
      if (norm(reference.gradients.get(name)!) < NOISE_ONLY * largest) continue;
      const expected = reference.weights.get(name)!;
      expect(distance(after.get(name)!, expected) / norm(expected), name).toBeLessThan(TOLERANCE);
    }
    const state = await trainer.optimizerState();
    expect(state.get(trained[0]!)!.step).toBe(3);
  } finally {
    trainer.dispose();
  }
}

describe('WebGPU training against the CPU reference', () => {
  afterAll(disposeSharedDevice);

  HIDDEN_CASES.forEach(({ name, source, trained }, index) => {
    gpuIt(`${name}: one step's gradients and three AdamW steps`, async () => {
      const program = compileUnfused(source);
      const inputs = randomInputs(program, 3, 5, 100 + index);
      const labels = tokenLabels(inputs, program.model.hidden, 200 + index);
      await checkAgainstReference(program, trained, inputs, labels, 'hidden_states', 300 + index);
    });
  });

  gpuIt(
    'a checkpoint classifier: its adapter, pooler and head through the embeddings',
    async () => {
      const program = compileUnfused(
        'model tiny from "bert-seq-cls"\nadapter pf { bottleneck 8 activation gelu at ffn }\ngraph default = pf\n',
      );
      const inputs = textInputs(program, 3, 6, 11);
      const labels = Int32Array.from([2, 0, 1]);
      await checkAgainstReference(
        program,
        ['adapters.pf.', 'classifier.', 'pooler'],
        inputs,
        labels,
        'logits',
        12,
      );
    },
  );

  gpuIt('a tagging head: labels per token, -100 on special and padded tokens', async () => {
    const program = compileUnfused(
      'model tiny from "distilbert-token-cls"\nadapter t { bottleneck 4 at ffn }\ngraph default = t\n',
    );
    const inputs = textInputs(program, 2, 7, 13);
    const classes = program.model.text!.head!.labels.length;
    const labels = tokenLabels(inputs, classes, 14);
    labels[0] = IGNORED_LABEL;
    labels[7] = IGNORED_LABEL;
    await checkAgainstReference(
      program,
      ['adapters.t.', 'classifier.'],
      inputs,
      labels,
      'logits',
      15,
    );
  });
});
