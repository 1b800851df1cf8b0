import type { CheckpointSpec } from '../model.js';
import type { GraphBuilder, Value } from '../ir/builder.js';
import { BASE_INIT, ZEROS } from './inits.js';
import type { FamilyNames } from './weight-names/index.js';

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
