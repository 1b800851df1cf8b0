import { afterAll, describe } from 'vitest';
import { IGNORED_LABEL } from '../../src/runtime/training/backend.js';
import { prepareInputs } from '../../src/runtime/inputs.js';
import { normals, randomInputs } from '../backward/finite-differences.js';
import { gpuIt } from '../helpers/gpu.js';
import { SMALL_TRAINING_CASES } from '../helpers/small-training-models.js';
import { checkAgainstReference, compileUnfused, textInputs, tokenLabels } from './check.js';
import { disposeSharedDevice } from './device.js';

describe('WebGPU training against the CPU reference', () => {
  afterAll(disposeSharedDevice);

  SMALL_TRAINING_CASES.forEach(({ name, source, trained }, index) => {
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

describe("WebGPU training with the other kernel profile's forward pass", () => {
  afterAll(disposeSharedDevice);

  (['software', 'gpu'] as const).forEach((target) => {
    gpuIt(`a Houlsby adapter under the '${target}' profile's forward kernels`, async () => {
      const program = compileUnfused(SMALL_TRAINING_CASES[1]!.source);
      const inputs = randomInputs(program, 2, 6, 400);
      const labels = tokenLabels(inputs, program.model.hidden, 401);
      await checkAgainstReference(program, ['adapters.h.'], inputs, labels, 'hidden_states', 402, {
        target,
      });
    });
  });
});

describe('WebGPU training of checkpoints: a fusion (stage 2) and a language model', () => {
  afterAll(disposeSharedDevice);

  gpuIt("an AdapterFusion and the classifier over a checkpoint's frozen adapters", async () => {
    const program = compileUnfused(
      'model tiny from "bert-seq-cls"\nadapter a { bottleneck 8 at ffn }\nadapter b { bottleneck 4 activation gelu at ffn scale 2.0 }\nfusion f { adapters a, b }\ngraph default = f\n',
    );
    const inputs = textInputs(program, 3, 5, 21);
    const labels = Int32Array.from([1, 2, 0]);
    const trained = ['adapter_fusion_layer.f.', 'classifier.'];
    await checkAgainstReference(program, trained, inputs, labels, 'logits', 22);
  });

  gpuIt('a GPT-2 adapter under the language-model head tied to the frozen word table', async () => {
    const program = compileUnfused(
      'model tiny from "gpt2-lm"\nadapter a { bottleneck 4 at attn, ffn }\ngraph default = a\n',
    );
    const inputs = textInputs(program, 2, 6, 23);
    const classes = program.model.text!.vocab;
    const labels = tokenLabels(inputs, classes, 24);
    await checkAgainstReference(program, ['adapters.a.'], inputs, labels, 'logits', 25);
  });
});

describe('WebGPU training where a sequence is all padding', () => {
  afterAll(disposeSharedDevice);

  gpuIt('its queries see no key: zeros out of attention, and nothing back through it', async () => {
    const program = compileUnfused(SMALL_TRAINING_CASES[1]!.source);
    const batch = 3;
    const seq = 4;
    const mask = Int32Array.from({ length: batch * seq }, (_, i) =>
      Math.floor(i / seq) === 1 ? 0 : i % seq < 3 ? 1 : 0,
    );
    const inputs = prepareInputs(program, {
      hidden_states: {
        data: Float32Array.from(normals(batch * seq * 8, 500)),
        shape: [batch, seq, 8],
      },
      attention_mask: { data: mask, shape: [batch, seq] },
    });
    const labels = tokenLabels(inputs, 8, 501);
    // Labels on the padded sequence too, so a gradient reaches its queries.
    for (let t = 0; t < seq; t++) labels[seq + t] = t;
    await checkAgainstReference(program, ['adapters.h.'], inputs, labels, 'hidden_states', 502);
  });
});

describe('WebGPU training with dropout against the CPU reference, the same masks', () => {
  afterAll(disposeSharedDevice);

  SMALL_TRAINING_CASES.forEach(({ name, source, trained }, index) => {
    gpuIt(`${name}, dropout 0.2`, async () => {
      const program = compileUnfused(source);
      const inputs = randomInputs(program, 2, 6, 500 + index);
      const labels = tokenLabels(inputs, program.model.hidden, 600 + index);
      await checkAgainstReference(program, trained, inputs, labels, 'hidden_states', 700 + index, {
        dropout: { probability: 0.2, seed: 800 + index },
      });
    });
  });

  gpuIt('a checkpoint classifier through the embeddings, dropout 0.3', async () => {
    const program = compileUnfused(
      'model tiny from "bert-seq-cls"\nadapter pf { bottleneck 8 activation gelu at ffn }\ngraph default = pf\n',
    );
    const inputs = textInputs(program, 3, 6, 21);
    await checkAgainstReference(
      program,
      ['adapters.pf.', 'classifier.'],
      inputs,
      Int32Array.from([1, 2, 0]),
      'logits',
      22,
      { dropout: { probability: 0.3, seed: 23 } },
    );
  });

  gpuIt('a DistilBERT tagging head (no dropout of its attention output), dropout 0.3', async () => {
    const program = compileUnfused(
      'model tiny from "distilbert-token-cls"\nadapter t { bottleneck 4 at ffn }\ngraph default = t\n',
    );
    const inputs = textInputs(program, 2, 7, 24);
    const labels = tokenLabels(inputs, program.model.text!.head!.labels.length, 25);
    await checkAgainstReference(
      program,
      ['adapters.t.', 'classifier.'],
      inputs,
      labels,
      'logits',
      26,
      {
        dropout: { probability: 0.3, seed: 27 },
      },
    );
  });
});
