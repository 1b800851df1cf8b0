import { compile, type ReadFile } from '../../../src/compiler/index.js';
import { initWeights, loadTokenizer, type TensorMap } from '../../../src/runtime/index.js';
import type { LoadedCheckpoint } from './checkpoint.js';

/**
 * The playground's built-in model for the train tab: a BERT of hidden 32, two layers and two
 * heads, generated in the page (no file to fetch). Its WordPiece vocabulary has some common
 * words and every letter and digit as a word start and as a `##` continuation, so any word of
 * letters and digits has tokens. The base weights are seeded as `adapt run` seeds a model
 * (N(0, 0.02²), LayerNorm γ = 1, β = 0): it is untrained, and only the adapter and the head
 * learn.
 */
export const TINY_DIR = 'tiny-bert';

const SPECIALS = ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]'];
const PUNCTUATION = [...'.,!?\'-:;()"'];
const WORDS = (
  'the a an and or but not no is was are were be been it this that i you he she we they my ' +
  'your movie film book song food place day night service story actor plot ending great good ' +
  'fine nice love loved like liked enjoy best wonderful amazing happy fun bad awful terrible ' +
  'boring hate hated worst poor sad slow dull very so too really at all of to in on with for'
).split(' ');
const CHARACTERS = [...'abcdefghijklmnopqrstuvwxyz0123456789'];

function vocabulary(): Record<string, number> {
  const tokens = [
    ...SPECIALS,
    ...PUNCTUATION,
    ...WORDS,
    ...CHARACTERS,
    ...CHARACTERS.map((c) => `##${c}`),
  ];
  return Object.fromEntries([...new Set(tokens)].map((token, id) => [token, id]));
}

const VOCAB = vocabulary();
const MAX_POSITIONS = 64;

/** tokenizer.json as transformers' BertTokenizerFast saves it. */
function tokenizerJson(): object {
  const special = (content: string) => ({
    id: VOCAB[content]!,
    content,
    single_word: false,
    lstrip: false,
    rstrip: false,
    normalized: false,
    special: true,
  });
  const token = (id: string, type_id: number) => ({ SpecialToken: { id, type_id } });
  return {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: SPECIALS.map(special),
    normalizer: {
      type: 'BertNormalizer',
      clean_text: true,
      handle_chinese_chars: true,
      strip_accents: null,
      lowercase: true,
    },
    pre_tokenizer: { type: 'BertPreTokenizer' },
    post_processor: {
      type: 'TemplateProcessing',
      single: [token('[CLS]', 0), { Sequence: { id: 'A', type_id: 0 } }, token('[SEP]', 0)],
      pair: [
        token('[CLS]', 0),
        { Sequence: { id: 'A', type_id: 0 } },
        token('[SEP]', 0),
        { Sequence: { id: 'B', type_id: 1 } },
        token('[SEP]', 1),
      ],
      special_tokens: Object.fromEntries(
        ['[CLS]', '[SEP]'].map((t) => [t, { id: t, ids: [VOCAB[t]!], tokens: [t] }]),
      ),
    },
    decoder: { type: 'WordPiece', prefix: '##', cleanup: true },
    model: {
      type: 'WordPiece',
      unk_token: '[UNK]',
      continuing_subword_prefix: '##',
      max_input_chars_per_word: 100,
      vocab: VOCAB,
    },
  };
}

const TOKENIZER_CONFIG = {
  cls_token: '[CLS]',
  do_lower_case: true,
  mask_token: '[MASK]',
  model_max_length: MAX_POSITIONS,
  pad_token: '[PAD]',
  sep_token: '[SEP]',
  unk_token: '[UNK]',
};

/** config.json: a BertModel with no head of its own (the train tab declares one inline). */
export const TINY_CONFIG = JSON.stringify({
  architectures: ['BertModel'],
  attention_probs_dropout_prob: 0.1,
  hidden_act: 'gelu',
  hidden_dropout_prob: 0.1,
  hidden_size: 32,
  initializer_range: 0.02,
  intermediate_size: 64,
  layer_norm_eps: 1e-12,
  max_position_embeddings: MAX_POSITIONS,
  model_type: 'bert',
  num_attention_heads: 2,
  num_hidden_layers: 2,
  pad_token_id: 0,
  position_embedding_type: 'absolute',
  type_vocab_size: 2,
  vocab_size: Object.keys(VOCAB).length,
});

/** The compiler's reader for specs of the built-in model: its config.json, then `fallback`. */
export function withTinyModel(fallback: ReadFile): ReadFile {
  return (path) => (path === `${TINY_DIR}/config.json` ? TINY_CONFIG : fallback(path));
}

/** The base model's weights, seeded: every tensor a spec of the bare model reads. */
function seededBase(seed: number): TensorMap {
  const compiled = compile(`model tiny from "${TINY_DIR}"\n`, {
    fileName: 'tiny.adapt',
    fuse: false,
    gpu: false,
    readFile: withTinyModel(() => undefined),
  });
  if (!compiled.program)
    throw new Error(
      `the built-in model does not compile: ${compiled.diagnostics.map((d) => d.message).join('; ')}`,
    );
  const weights = initWeights(compiled.program, seed);
  for (const [name, tensor] of weights) {
    const factor = vividFactor(name, tensor.shape);
    if (factor !== 1) tensor.data.set(tensor.data.map((v) => v * factor));
  }
  return weights;
}

/**
 * How much a seeded N(0, 0.02²) tensor is scaled: the word embeddings to N(0, 1) and each
 * Linear to N(0, 1/in), so that an untrained model still carries the words of a sentence to its
 * first token, where the head reads it (at 0.02 they barely reach it, and nothing learns).
 */
function vividFactor(name: string, shape: readonly number[]): number {
  if (name.endsWith('word_embeddings.weight')) return 1 / 0.02;
  if (name.endsWith('.weight') && shape.length === 2 && !name.includes('embeddings'))
    return 1 / Math.sqrt(shape[1]!) / 0.02;
  return 1;
}

let checkpoint: LoadedCheckpoint | undefined;

/** The built-in checkpoint, made once per page. */
export function tinyCheckpoint(): LoadedCheckpoint {
  if (checkpoint) return checkpoint;
  const json = tokenizerJson();
  checkpoint = {
    dir: TINY_DIR,
    config: TINY_CONFIG,
    tensors: seededBase(0),
    files: [],
    tokenizer: loadTokenizer(json, TOKENIZER_CONFIG, `${TINY_DIR}/tokenizer.json`),
    tokenizerJson: json,
  };
  return checkpoint;
}
