import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { FixtureShape } from './shape.js';
import { writeSeededTensors, type TensorPlan } from './tensors.js';

/** The tokenizer the checkpoint uses: the fixtures' BERT WordPiece vocabulary. */
export const TOKENIZER_DIR = 'test/fixtures/hf/bert-seq-cls';

const WEIGHT = { std: 0.02 };
const ONES = { constant: 1 };
const ZEROS = { constant: 0 };

const json = (value: unknown) => `${JSON.stringify(value, null, 2)}\n`;

/** config.json as transformers writes it for a BertForSequenceClassification. */
function bertConfig(shape: FixtureShape, vocabSize: number) {
  const ids = shape.labels.map((label, i) => [label, i] as const);
  return {
    architectures: ['BertForSequenceClassification'],
    attention_probs_dropout_prob: 0.1,
    classifier_dropout: null,
    gradient_checkpointing: false,
    hidden_act: 'gelu',
    hidden_dropout_prob: 0.1,
    hidden_size: shape.hidden,
    id2label: Object.fromEntries(ids.map(([label, i]) => [String(i), label])),
    initializer_range: 0.02,
    intermediate_size: shape.ffn,
    label2id: Object.fromEntries(ids),
    layer_norm_eps: 1e-12,
    max_position_embeddings: shape.maxPositions,
    model_type: 'bert',
    num_attention_heads: shape.heads,
    num_hidden_layers: shape.layers,
    pad_token_id: 0,
    position_embedding_type: 'absolute',
    problem_type: 'single_label_classification',
    torch_dtype: 'float32',
    transformers_version: '4.30.2',
    type_vocab_size: 2,
    use_cache: true,
    vocab_size: vocabSize,
  };
}

function layerNorm(prefix: string, hidden: number): TensorPlan {
  return [
    [`${prefix}.LayerNorm.weight`, [hidden], ONES],
    [`${prefix}.LayerNorm.bias`, [hidden], ZEROS],
  ];
}

function linear(prefix: string, out: number, inner: number): TensorPlan {
  return [
    [`${prefix}.weight`, [out, inner], WEIGHT],
    [`${prefix}.bias`, [out], WEIGHT],
  ];
}

/** Every tensor of a BertForSequenceClassification's state dict (the position_ids buffer aside). */
export function bertTensors(shape: FixtureShape, vocabSize: number): TensorPlan {
  const { hidden, ffn } = shape;
  const layers = Array.from({ length: shape.layers }, (_, l): TensorPlan => {
    const at = `bert.encoder.layer.${l}`;
    return [
      ...linear(`${at}.attention.self.query`, hidden, hidden),
      ...linear(`${at}.attention.self.key`, hidden, hidden),
      ...linear(`${at}.attention.self.value`, hidden, hidden),
      ...linear(`${at}.attention.output.dense`, hidden, hidden),
      ...layerNorm(`${at}.attention.output`, hidden),
      ...linear(`${at}.intermediate.dense`, ffn, hidden),
      ...linear(`${at}.output.dense`, hidden, ffn),
      ...layerNorm(`${at}.output`, hidden),
    ];
  });
  return [
    ['bert.embeddings.word_embeddings.weight', [vocabSize, hidden], WEIGHT],
    ['bert.embeddings.position_embeddings.weight', [shape.maxPositions, hidden], WEIGHT],
    ['bert.embeddings.token_type_embeddings.weight', [2, hidden], WEIGHT],
    ...layerNorm('bert.embeddings', hidden),
    ...layers.flat(),
    ...linear('bert.pooler.dense', hidden, hidden),
    ...linear('classifier', shape.labels.length, hidden),
  ];
}

/** The vocabulary size of the fixtures' tokenizer.json. */
export function tokenizerVocabSize(root: string): number {
  const file = JSON.parse(readFileSync(join(root, TOKENIZER_DIR, 'tokenizer.json'), 'utf8')) as {
    model: { vocab: Record<string, number> };
    added_tokens?: readonly { id: number }[];
  };
  const ids = [...Object.values(file.model.vocab), ...(file.added_tokens ?? []).map((t) => t.id)];
  return Math.max(...ids) + 1;
}

/**
 * A Hugging Face checkpoint directory: config.json, seeded model.safetensors, and the fixtures'
 * tokenizer.json and tokenizer_config.json, the latter's `model_max_length` raised to the
 * checkpoint's positions (the fixture's 32 would cut the load test's texts).
 */
export function writeCheckpoint(root: string, dir: string, shape: FixtureShape, seed: number) {
  mkdirSync(dir, { recursive: true });
  const vocabSize = tokenizerVocabSize(root);
  writeFileSync(join(dir, 'config.json'), json(bertConfig(shape, vocabSize)));
  writeSeededTensors(join(dir, 'model.safetensors'), bertTensors(shape, vocabSize), seed);
  const source = join(root, TOKENIZER_DIR);
  copyFileSync(join(source, 'tokenizer.json'), join(dir, 'tokenizer.json'));
  const config = JSON.parse(readFileSync(join(source, 'tokenizer_config.json'), 'utf8')) as object;
  writeFileSync(
    join(dir, 'tokenizer_config.json'),
    json({ ...config, model_max_length: shape.maxPositions }),
  );
}
