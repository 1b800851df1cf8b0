import type { AdapterActivation, CheckpointSpec, PredictionHeadSpec } from '../model.js';
import type { GraphBuilder, Value } from '../ir/builder.js';
import { BASE_INIT, ZEROS } from './inits.js';
import { plainLinear, type FamilyNames } from './weight-names/index.js';
import { ADAPTER_PLACEHOLDER, type SlotStacks } from './slot-stacks.js';

/** x·Wᵀ + b for `${module}.weight` [out, in] and `${module}.bias`, a head's plain Linear. */
function dense(b: GraphBuilder, x: Value, module: string, outSize: number, inSize: number): Value {
  const w = b.weight(`${module}.weight`, [outSize, inSize], BASE_INIT);
  const bias = b.weight(`${module}.bias`, [outSize], ZEROS);
  return b.op('add', [b.op('matmul', [x, w], {}), bias], {});
}

/**
 * The checkpoint's task head on the last hidden state x [B, T, d], as its `architectures` class
 * computes it (docs/design.md §3): a sequence classifier reads the first token, [B, L]; a token
 * classifier every token, [B, T, L]; GPT-2's language-model head multiplies by the token
 * embeddings, [B, T, V]. Logits only: softmax or sigmoid scores are the reader's.
 */
export function lowerHead(
  b: GraphBuilder,
  checkpoint: CheckpointSpec,
  names: FamilyNames,
  x: Value,
  d: number,
): Value {
  const head = checkpoint.head!;
  const labels = head.labels.length;
  b.scope = undefined;
  switch (head.layout) {
    case 'pooler': {
      const pooled = b.op(
        'tanh',
        [dense(b, b.op('first_token', [x], {}), 'pooler.dense', d, d)],
        {},
      );
      return dense(b, pooled, 'classifier', labels, d);
    }
    case 'dense-tanh': {
      const first = b.op('first_token', [x], {});
      const hidden = b.op('tanh', [dense(b, first, 'classifier.dense', d, d)], {});
      return dense(b, hidden, 'classifier.out_proj', labels, d);
    }
    case 'pre-classifier-relu': {
      const first = b.op('first_token', [x], {});
      const hidden = b.op('relu', [dense(b, first, 'pre_classifier', d, d)], {});
      return dense(b, hidden, 'classifier', labels, d);
    }
    case 'token':
      return dense(b, x, 'classifier', labels, d);
    case 'tied-embeddings': {
      const table = b.weight(`${names.embeddings.word}.weight`, [checkpoint.vocab, d], BASE_INIT);
      return b.op('matmul', [x, table], {});
    }
  }
}

/**
 * An AdapterHub prediction head (`adapters/src/adapters/heads/base.py`): the pooler output or
 * the first token for classification heads, every token for tagging, then the `nn.Sequential`
 * of `PredictionHead.build`: per layer a Dropout (index i) and a Linear (i + 1), the activation
 * after all but the last, which maps to the labels. With `slots`, each of its Linears is
 * stacked per slot (the pooler is the base model's).
 */
export function lowerPredictionHead(
  b: GraphBuilder,
  head: PredictionHeadSpec,
  x: Value,
  d: number,
  activate: (x: Value, activation: AdapterActivation) => Value,
  slots?: SlotStacks,
): Value {
  b.scope = undefined;
  let z = x;
  if (head.type !== 'tagging') {
    const first = b.op('first_token', [x], {});
    z = head.usePooler ? b.op('tanh', [dense(b, first, 'pooler.dense', d, d)], {}) : first;
  }
  let index = 0;
  for (let layer = 0; layer < head.layers; layer++) {
    const module = `heads.${head.name}.${index + 1}`;
    const lastLayer = layer === head.layers - 1;
    const outSize = lastLayer ? head.labels.length : d;
    if (slots) {
      const activation = lastLayer ? 'none' : head.activation;
      const source = plainLinear(`heads.${ADAPTER_PLACEHOLDER}.${index + 1}`);
      z = slots.linear(z, source, outSize, d, activation);
      if (lastLayer) return z;
      index += head.activation === 'none' ? 2 : 3;
      continue;
    }
    if (lastLayer && !head.bias) {
      const w = b.weight(`${module}.weight`, [head.labels.length, d], BASE_INIT);
      return b.op('matmul', [z, w], {});
    }
    z = dense(b, z, module, outSize, d);
    if (lastLayer) return z;
    if (head.activation !== 'none') z = activate(z, head.activation);
    index += head.activation === 'none' ? 2 : 3;
  }
  return z;
}
