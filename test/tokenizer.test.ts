import { readFileSync } from 'node:fs';
import { Tokenizer } from '@huggingface/tokenizers';
import { describe, expect, it } from 'vitest';
import { ArgumentError, InputError } from '../src/runtime/errors.js';
import { loadTokenizer } from '../src/runtime/text/tokenizer.js';
import { TokenizerError } from '../src/runtime/text/tokenizer-error.js';

const fixture = (name: string): string =>
  readFileSync(new URL(`fixtures/tokenizers/${name}`, import.meta.url), 'utf8');
const wordPieceText = fixture('wordpiece.json');
const bpeText = fixture('byte-level-bpe.json');
const parse = (text: string) => JSON.parse(text) as Record<string, unknown>;

/** The RoBERTa-style file with GPT-2's post-processor: no special tokens around the text. */
function gpt2Style(): Record<string, unknown> {
  return {
    ...parse(bpeText),
    post_processor: { type: 'ByteLevel', add_prefix_space: true, trim_offsets: false },
  };
}

const rows = (ids: Int32Array, seq: number) =>
  Array.from({ length: ids.length / seq }, (_, b) => [...ids.subarray(b * seq, (b + 1) * seq)]);

describe('WordPiece (BERT)', () => {
  const tokenizer = loadTokenizer(wordPieceText);

  it('lowercases, splits words and punctuation, and wraps the text in [CLS] … [SEP]', () => {
    // "the" "cats" "sat" "on" "the" "mat" "." → the | cat ##s | sat | on | the | mat | .
    const out = tokenizer.encodeBatch(['The cats sat on the mat.'], { maxLength: 32 });
    expect(out.tokens[0]).toEqual([
      '[CLS]',
      'the',
      'cat',
      '##s',
      'sat',
      'on',
      'the',
      'mat',
      '.',
      '[SEP]',
    ]);
    expect([...out.inputIds]).toEqual([2, 5, 6, 10, 7, 8, 5, 9, 13, 3]);
    expect(out.words[0]).toEqual([null, 0, 1, 1, 2, 3, 4, 5, 6, null]);
    expect([...out.attentionMask]).toEqual(new Array(10).fill(1));
    expect([...out.tokenTypeIds]).toEqual(new Array(10).fill(0));
    expect([out.batch, out.seq, out.truncated]).toEqual([1, 10, []]);
  });

  it('splits words into the longest pieces first', () => {
    // play ##ing | un ##aff ##able | !
    const out = tokenizer.encodeBatch(['Playing unaffable!'], { maxLength: 32 });
    expect([...out.inputIds]).toEqual([2, 11, 12, 16, 17, 18, 15, 3]);
    expect(out.words[0]).toEqual([null, 0, 0, 1, 1, 1, 2, null]);
  });

  it('gives [UNK] for a word it cannot spell, and strips accents', () => {
    // "dog" has no pieces in the vocabulary; "Café" normalizes to "cafe".
    const out = tokenizer.encodeBatch(['the dog', 'Café'], { maxLength: 32 });
    expect(out.tokens).toEqual([
      ['[CLS]', 'the', '[UNK]', '[SEP]'],
      ['[CLS]', 'cafe', '[SEP]'],
    ]);
    expect(rows(out.inputIds, out.seq)).toEqual([
      [2, 5, 1, 3],
      [2, 21, 3, 0],
    ]);
  });

  it('keeps an added token written in the text whole', () => {
    const out = tokenizer.encodeBatch(['the [MASK] sat'], { maxLength: 32 });
    expect([...out.inputIds]).toEqual([2, 5, 4, 7, 3]);
    expect(out.words[0]).toEqual([null, 0, 1, 2, null]);
  });

  it('pads on the right to the longest text with [PAD] and mask 0', () => {
    const out = tokenizer.encodeBatch(['the cat', 'the cats sat'], { maxLength: 32 });
    expect([out.batch, out.seq, out.padId]).toEqual([2, 6, 0]);
    expect(rows(out.inputIds, out.seq)).toEqual([
      [2, 5, 6, 3, 0, 0],
      [2, 5, 6, 10, 7, 3],
    ]);
    expect(rows(out.attentionMask, out.seq)).toEqual([
      [1, 1, 1, 1, 0, 0],
      [1, 1, 1, 1, 1, 1],
    ]);
    expect(out.tokens[0]).toHaveLength(4);
    expect(out.words[0]).toEqual([null, 0, 1, null]);
  });

  it('truncates the text, never the special tokens, and says which texts were cut', () => {
    // Room for 2 of "the cat ##s sat" beside [CLS] and [SEP].
    const out = tokenizer.encodeBatch(['the cat', 'the cats sat'], { maxLength: 4 });
    expect(rows(out.inputIds, out.seq)).toEqual([
      [2, 5, 6, 3],
      [2, 5, 6, 3],
    ]);
    expect(out.truncated).toEqual([1]);
    expect(tokenizer.specialTokens).toBe(2);
  });

  it('takes the pad id from padding.pad_id before the one passed in', () => {
    const json = { ...parse(wordPieceText), padding: { pad_id: 4, pad_type_id: 1 } };
    const out = loadTokenizer(json).encodeBatch(['the', 'the cat'], { maxLength: 8, padId: 0 });
    expect(rows(out.inputIds, out.seq)[0]).toEqual([2, 5, 3, 4]);
    expect(rows(out.tokenTypeIds, out.seq)[0]).toEqual([0, 0, 0, 1]);
  });

  it('gives the same ids as the library encoding a text at a time', () => {
    const library = new Tokenizer(parse(wordPieceText), {});
    const texts = ['The cats sat on the mat.', 'Playing, unaffable!', 'the [MASK] dog', 'café'];
    const out = tokenizer.encodeBatch(texts, { maxLength: 32 });
    texts.forEach((text, i) => {
      const ids = [...rows(out.inputIds, out.seq)[i]!].slice(0, out.tokens[i]!.length);
      expect(ids).toEqual(library.encode(text).ids);
    });
  });
});

describe('byte-level BPE (RoBERTa, GPT-2)', () => {
  const roberta = loadTokenizer(bpeText);

  it('merges by rank and wraps the text in <s> … </s>', () => {
    // "hello" " world" → hello | Ġworld (a space is the byte Ġ)
    const out = roberta.encodeBatch(['hello world'], { maxLength: 16 });
    expect(out.tokens[0]).toEqual(['<s>', 'hello', 'Ġworld', '</s>']);
    expect([...out.inputIds]).toEqual([0, 19, 24, 2]);
    expect(out.words[0]).toEqual([null, 0, 1, null]);
  });

  it('spells a non-ASCII character as its UTF-8 bytes', () => {
    // é is C3 A9, written Ã ©; "héllo" → h Ã © l l o: "l l" (rank 1) merges before "Ã ©"
    // (rank 9), then nothing joins h, Ã©, ll, o. "!" is a word of its own.
    const out = roberta.encodeBatch(['héllo!'], { maxLength: 16 });
    expect(out.tokens[0]).toEqual(['<s>', 'h', 'Ã©', 'll', 'o', '!', '</s>']);
    expect([...out.inputIds]).toEqual([0, 5, 25, 17, 8, 15, 2]);
    expect(out.words[0]).toEqual([null, 0, 0, 0, 0, 1, null]);
  });

  it('lets <mask> take the space before it (lstrip)', () => {
    const out = roberta.encodeBatch(['hello <mask>'], { maxLength: 16 });
    expect([...out.inputIds]).toEqual([0, 19, 4, 2]);
  });

  it('pads with the model pad id <pad> = 1, passed in', () => {
    const out = roberta.encodeBatch(['hello', 'hello world'], { maxLength: 16, padId: 1 });
    expect(rows(out.inputIds, out.seq)).toEqual([
      [0, 19, 2, 1],
      [0, 19, 24, 2],
    ]);
  });

  it('adds no special tokens with the GPT-2 post-processor and pads with the end token', () => {
    const gpt2 = loadTokenizer(gpt2Style(), { eos_token: '</s>' });
    expect(gpt2.specialTokens).toBe(0);
    const out = gpt2.encodeBatch(['hello world', 'hello'], { maxLength: 16 });
    expect(rows(out.inputIds, out.seq)).toEqual([
      [19, 24],
      [19, 2],
    ]);
    expect(rows(out.attentionMask, out.seq)).toEqual([
      [1, 1],
      [1, 0],
    ]);
    expect(out.words).toEqual([[0, 1], [0]]);
    const truncated = gpt2.encodeBatch(['hello world'], { maxLength: 1 });
    expect([...truncated.inputIds, ...truncated.truncated]).toEqual([19, 0]);
  });

  it('pads with 0 when nothing names a pad or end token', () => {
    const out = loadTokenizer(gpt2Style()).encodeBatch(['hello world', 'hello'], { maxLength: 8 });
    expect([out.padId, out.inputIds[3]]).toEqual([0, 0]);
  });

  it('gives the same ids as the library encoding a text at a time', () => {
    const library = new Tokenizer(parse(bpeText), {});
    for (const text of ['hello world', 'héllo!', 'hello <mask> world', 'world hello']) {
      const out = roberta.encodeBatch([text], { maxLength: 32 });
      expect([...out.inputIds]).toEqual(library.encode(text).ids);
    }
  });
});

describe('bad files and arguments', () => {
  const error = (run: () => unknown): Error => {
    try {
      run();
    } catch (e) {
      return e as Error;
    }
    throw new Error('expected an error');
  };

  it('names the file, line and column of bad JSON', () => {
    const e = error(() => loadTokenizer('{\n  "model": {},\n}', undefined, 'ckpt/tokenizer.json'));
    expect(e).toBeInstanceOf(TokenizerError);
    expect(e.message).toBe(
      'ckpt/tokenizer.json:3:1: not valid JSON: Expected double-quoted property name',
    );
  });

  it('refuses a model type it does not implement', () => {
    const json = { ...parse(bpeText), model: { type: 'Unigram', vocab: [['a', 0]] } };
    expect(error(() => loadTokenizer(json)).message).toBe(
      "tokenizer.json: model.type: 'Unigram' is not supported (WordPiece, BPE)",
    );
  });

  it('names the key that is wrong', () => {
    const base = parse(wordPieceText);
    const model = base.model as Record<string, unknown>;
    const cases: [Record<string, unknown>, string][] = [
      [{ ...base, model: 3 }, 'model: must be an object, got 3'],
      [
        { ...base, model: { ...model, type: undefined } },
        'model.type: missing; it must be one of (WordPiece, BPE)',
      ],
      [
        { ...base, model: { ...model, vocab: { a: 0, b: 0 } } },
        "model.vocab: 'a' and 'b' both have id 0",
      ],
      [
        { ...base, model: { ...model, vocab: { a: -1 } } },
        "model.vocab: 'a': must be an integer id of at least 0, got -1",
      ],
      [
        { ...base, model: { ...model, unk_token: '<unk>' } },
        "model.unk_token: '<unk>' is not in model.vocab",
      ],
      [
        { ...base, added_tokens: [{ id: 0 }] },
        'added_tokens[0].content: must be a non-empty string, got undefined',
      ],
      [
        { ...base, padding: { pad_id: 'x' } },
        'padding.pad_id: must be an integer of at least 0, got the string "x"',
      ],
      [
        { ...base, normalizer: { lowercase: true } },
        'normalizer.type: must be a string, got undefined',
      ],
      [{ ...base, normalizer: { type: 'Shout' } }, 'Unknown Normalizer type: Shout'],
    ];
    for (const [json, message] of cases) {
      const e = error(() => loadTokenizer(json));
      expect(e).toBeInstanceOf(TokenizerError);
      expect(e.message).toBe(`tokenizer.json: ${message}`);
    }
    const bpe = parse(bpeText);
    const bpeModel = bpe.model as Record<string, unknown>;
    expect(
      error(() => loadTokenizer({ ...bpe, model: { ...bpeModel, merges: ['a b c'] } })).message,
    ).toBe(
      'tokenizer.json: model.merges[0]: must be two tokens, as "a b" or ["a", "b"], got the string "a b c"',
    );
    expect(
      error(() => loadTokenizer({ ...bpe, model: { ...bpeModel, dropout: 0.1 } })).message,
    ).toBe('tokenizer.json: model.dropout: 0.1 is not supported (it makes tokens random)');
  });

  it('checks the special tokens the post-processor and tokenizer_config.json name', () => {
    const json = {
      ...parse(bpeText),
      post_processor: { type: 'RobertaProcessing', sep: ['</x>', 9], cls: ['<s>', 0] },
    };
    expect(error(() => loadTokenizer(json)).message).toBe(
      "tokenizer.json: post_processor: special token '</x>' is not in model.vocab",
    );
    expect(
      error(() => loadTokenizer(bpeText, { pad_token: '[PAD]' }, 'm/tokenizer.json')).message,
    ).toBe("m/tokenizer_config.json: pad_token: '[PAD]' is not in m/tokenizer.json");
    expect(error(() => loadTokenizer(bpeText, { eos_token: 7 })).message).toBe(
      'tokenizer_config.json: eos_token: must be a token (a string or {"content": "…"}), got 7',
    );
  });

  it('refuses bad arguments and a text with no tokens', () => {
    const bert = loadTokenizer(wordPieceText);
    expect(error(() => bert.encodeBatch([], { maxLength: 8 }))).toBeInstanceOf(ArgumentError);
    expect(error(() => bert.encodeBatch(['a'], { maxLength: 2 })).message).toBe(
      'maxLength 2 leaves no room for text beside the 2 special tokens',
    );
    expect(error(() => bert.encodeBatch(['a'], { maxLength: 8, padId: -1 })).message).toBe(
      'padId must be an integer of at least 0, got -1',
    );
    const e = error(() => loadTokenizer(gpt2Style()).encodeBatch(['hello', ''], { maxLength: 8 }));
    expect(e).toBeInstanceOf(InputError);
    expect(e.message).toBe('text 2 gives no tokens');
  });
});

describe('agreement with the Rust tokenizers (reference.json, made by reference.py)', () => {
  const reference = JSON.parse(fixture('reference.json')) as Record<
    string,
    { text: string; ids: number[]; words: (number | null)[] }[]
  >;
  const tokenizers = {
    'wordpiece.json': loadTokenizer(wordPieceText),
    'byte-level-bpe.json': loadTokenizer(bpeText),
    gpt2: loadTokenizer(gpt2Style()),
  };

  for (const [name, tokenizer] of Object.entries(tokenizers)) {
    it(`gives the same ids and words for ${name}`, () => {
      const cases = reference[name]!;
      expect(cases.length).toBeGreaterThan(3);
      const out = tokenizer.encodeBatch(
        cases.map((c) => c.text),
        { maxLength: 64 },
      );
      cases.forEach((c, i) => {
        expect(rows(out.inputIds, out.seq)[i]!.slice(0, c.ids.length)).toEqual(c.ids);
        expect(out.words[i]).toEqual(c.words);
      });
    });
  }
});

describe('the Hugging Face checkpoint fixtures (test/fixtures/hf/cases.json)', () => {
  interface Case {
    name: string;
    dir: string;
    pad_id: number;
    texts: { text: string; tokens: string[]; ids: number[] }[];
    input_ids: number[][];
    attention_mask: number[][];
  }
  const hf = (path: string) =>
    readFileSync(new URL(`fixtures/hf/${path}`, import.meta.url), 'utf8');
  const { checkpoints } = JSON.parse(hf('cases.json')) as { checkpoints: Case[] };

  it('has a case for each family', () => {
    expect(checkpoints.map((c) => c.name)).toEqual([
      'bert-seq-cls',
      'roberta-seq-cls',
      'distilbert-token-cls',
      'distilbert-seq-cls',
      'gpt2-lm',
    ]);
  });

  for (const c of checkpoints) {
    it(`gives ${c.name}'s tokens, ids, padding and mask`, () => {
      const config = JSON.parse(hf(`${c.dir}/config.json`)) as Record<string, number>;
      const tokenizer = loadTokenizer(
        hf(`${c.dir}/tokenizer.json`),
        JSON.parse(hf(`${c.dir}/tokenizer_config.json`)) as object,
        `${c.dir}/tokenizer.json`,
      );
      const out = tokenizer.encodeBatch(
        c.texts.map((t) => t.text),
        { maxLength: config.max_position_embeddings ?? config.n_positions! },
      );
      expect(out.tokens).toEqual(c.texts.map((t) => t.tokens));
      expect(out.padId).toBe(c.pad_id);
      expect(rows(out.inputIds, out.seq)).toEqual(c.input_ids);
      expect(rows(out.attentionMask, out.seq)).toEqual(c.attention_mask);
      expect(out.truncated).toEqual([]);
    });
  }

  it("truncates RoBERTa to tokenizer_config.json's model_max_length, 2 below its positions", () => {
    const tokenizer = loadTokenizer(
      hf('roberta-seq-cls/tokenizer.json'),
      JSON.parse(hf('roberta-seq-cls/tokenizer_config.json')) as object,
    );
    expect(tokenizer.modelMaxLength).toBe(30);
    const out = tokenizer.encodeBatch(['hello world '.repeat(40)], { maxLength: 32 });
    expect([out.seq, out.truncated, out.tokens[0]!.at(-1)]).toEqual([30, [0], '</s>']);
  });
});
