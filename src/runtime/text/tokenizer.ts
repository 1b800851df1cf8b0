import { Tokenizer } from '@huggingface/tokenizers';
import { ArgumentError, InputError } from '../errors.js';
import { describeValue } from '../guards.js';
import { AddedTokenSplitter } from './added-tokens.js';
import { readTokenizerConfig, type TokenizerConfigTokens } from './tokenizer-config.js';
import { TokenizerError } from './tokenizer-error.js';
import {
  readTokenizerFile,
  type TokenizerFile,
  type TokenizerModelType,
} from './tokenizer-file.js';

/**
 * Text to token ids with a Hugging Face tokenizer.json, as `tokenizer(texts, padding=True,
 * truncation=True, max_length=maxLength)` does in transformers: special tokens from the
 * post-processor, right padding to the longest text, truncation of the text (never of the special
 * tokens) to the model's positions, or to tokenizer_config.json's `model_max_length` where that
 * is smaller (RoBERTa's positions start after the pad id, so it says 2 fewer).
 *
 * The normalizer, pre-tokenizer, model and post-processor are the tokenizer library's; this
 * module drives them word by word, so that each token knows the word it came from (what a token
 * classification head labels), and truncates between the model and the post-processor, as the
 * Rust tokenizers do.
 *
 * The pad id is, in order: tokenizer.json `padding.pad_id`; the `padId` passed in (the
 * checkpoint's `pad_token_id`); tokenizer_config.json `pad_token`; for models without a pad token
 * (GPT-2) the end-of-text id (`eosId` passed in, else tokenizer_config.json `eos_token`); else 0.
 * Padding is masked out (attention_mask 0), so with right padding it changes no real token's
 * output whatever its id.
 */

export interface EncodeOptions {
  /** The most tokens a text may have with its special tokens: the model's positions. */
  readonly maxLength: number;
  readonly padId?: number;
  readonly eosId?: number;
}

export interface EncodedBatch {
  /** [batch, seq], row-major; each row padded on the right with `padId`. */
  readonly inputIds: Int32Array;
  /** 1 on tokens, 0 on padding. */
  readonly attentionMask: Int32Array;
  readonly tokenTypeIds: Int32Array;
  readonly batch: number;
  /** The longest text's token count, special tokens included. */
  readonly seq: number;
  readonly padId: number;
  /** Per text, its tokens without padding (special tokens included). */
  readonly tokens: string[][];
  /** Per text and token, the index of the word it belongs to; null for special tokens. */
  readonly words: (number | null)[][];
  /** Indices of the texts cut to fit maxLength. */
  readonly truncated: number[];
}

export function loadTokenizer(
  json: string | object,
  config?: object,
  source = 'tokenizer.json',
): TextTokenizer {
  const file = readTokenizerFile(json, source);
  const configTokens = readTokenizerConfig(config, configFileBeside(source));
  let library: Tokenizer;
  try {
    library = new Tokenizer(file.json, {});
  } catch (e) {
    throw new TokenizerError(source, e instanceof Error ? e.message : String(e));
  }
  return new TextTokenizer(library, file, configTokens, source);
}

/** Where tokenizer_config.json sits: beside tokenizer.json, for naming it in errors. */
function configFileBeside(source: string): string {
  return source.replace(/[^/\\]*$/, 'tokenizer_config.json');
}

interface Special {
  readonly token: string;
  readonly id: number;
  readonly typeId: number;
}

/** The text of one input, through the model: tokens and ids, with each token's word. */
interface Pieces {
  readonly tokens: string[];
  readonly ids: number[];
  readonly words: number[];
}

// A stand-in for the text, to find where the post-processor puts it among the special tokens.
const TEXT_PLACEHOLDER = '\u0000text';

export class TextTokenizer {
  readonly modelType: TokenizerModelType;
  /** One past the largest id the tokenizer can give: at most the model's vocabulary. */
  readonly vocabSize: number;
  /** tokenizer_config.json `model_max_length`, where it sets a real limit. */
  readonly modelMaxLength: number | undefined;
  private readonly before: readonly Special[];
  private readonly after: readonly Special[];
  private readonly textTypeId: number;
  private readonly unnormalized: AddedTokenSplitter;
  private readonly normalized: AddedTokenSplitter;
  private readonly configPadId: number | undefined;
  private readonly configEosId: number | undefined;

  constructor(
    private readonly library: Tokenizer,
    private readonly file: TokenizerFile,
    config: TokenizerConfigTokens,
    private readonly source: string,
  ) {
    this.modelType = file.modelType;
    this.vocabSize = file.vocabSize;
    this.modelMaxLength = config.modelMaxLength;
    const normalizer = library.normalizer;
    const matchNormalized = (normalizedToken: boolean) => normalizedToken && normalizer !== null;
    this.unnormalized = new AddedTokenSplitter(
      file.addedTokens
        .filter((token) => !matchNormalized(token.normalized))
        .map((token) => ({ written: token.content, token })),
    );
    this.normalized = new AddedTokenSplitter(
      file.addedTokens
        .filter((token) => matchNormalized(token.normalized))
        .map((token) => ({ written: normalizer!(token.content), token })),
    );

    const layout: { tokens: string[]; token_type_ids?: number[] } = library.post_processor
      ? library.post_processor([TEXT_PLACEHOLDER], null, true)
      : { tokens: [TEXT_PLACEHOLDER] };
    const at = layout.tokens.indexOf(TEXT_PLACEHOLDER);
    if (at < 0 || layout.tokens.lastIndexOf(TEXT_PLACEHOLDER) !== at) {
      throw new TokenizerError(source, 'must place the text once', 'post_processor');
    }
    const specials = layout.tokens.map((token, i): Special => {
      const typeId = layout.token_type_ids?.[i] ?? 0;
      if (i === at) return { token, id: -1, typeId };
      const id = library.token_to_id(token);
      if (id === undefined) {
        throw new TokenizerError(
          source,
          `special token '${token}' is not in model.vocab`,
          'post_processor',
        );
      }
      return { token, id, typeId };
    });
    this.before = specials.slice(0, at);
    this.after = specials.slice(at + 1);
    this.textTypeId = specials[at]!.typeId;

    const configSource = configFileBeside(source);
    const idOfConfigToken = (token: string | undefined, key: string) => {
      if (token === undefined) return undefined;
      const id = library.token_to_id(token);
      if (id === undefined) {
        throw new TokenizerError(configSource, `'${token}' is not in ${source}`, key);
      }
      return id;
    };
    this.configPadId = idOfConfigToken(config.padToken, 'pad_token');
    this.configEosId = idOfConfigToken(config.eosToken, 'eos_token');
  }

  /** How many special tokens the post-processor adds to each text. */
  get specialTokens(): number {
    return this.before.length + this.after.length;
  }

  /** The text of token ids, special tokens left out (a word of several tokens, a next token). */
  decode(ids: readonly number[]): string {
    return this.library.decode([...ids], { skip_special_tokens: true });
  }

  encodeBatch(texts: readonly string[], options: EncodeOptions): EncodedBatch {
    if (!Array.isArray(texts) || texts.length === 0) {
      throw new ArgumentError(
        `texts must be a non-empty array of strings, got ${describeValue(texts)}`,
      );
    }
    texts.forEach((text, i) => {
      if (typeof text !== 'string')
        throw new ArgumentError(`texts[${i}] must be a string, got ${describeValue(text)}`);
    });
    if (!(Number.isSafeInteger(options.maxLength) && options.maxLength >= 1)) {
      throw new ArgumentError(
        `maxLength must be a positive integer, got ${describeValue(options.maxLength)}`,
      );
    }
    const maxLength = Math.min(options.maxLength, this.modelMaxLength ?? options.maxLength);
    const room = maxLength - this.specialTokens;
    if (room < 1) {
      throw new ArgumentError(
        `maxLength ${maxLength} leaves no room for text beside the ${this.specialTokens} special tokens`,
      );
    }
    const padId = this.padId(options);

    const truncated: number[] = [];
    const rows = texts.map((text, i) => {
      const pieces = this.pieces(text, i);
      const kept = Math.min(pieces.ids.length, room);
      if (kept < pieces.ids.length) truncated.push(i);
      const tokens = [
        ...this.before.map((s) => s.token),
        ...pieces.tokens.slice(0, kept),
        ...this.after.map((s) => s.token),
      ];
      if (tokens.length === 0) throw new InputError(`text ${i + 1} gives no tokens`);
      return {
        tokens,
        ids: [
          ...this.before.map((s) => s.id),
          ...pieces.ids.slice(0, kept),
          ...this.after.map((s) => s.id),
        ],
        typeIds: [
          ...this.before.map((s) => s.typeId),
          ...new Array<number>(kept).fill(this.textTypeId),
          ...this.after.map((s) => s.typeId),
        ],
        words: [
          ...this.before.map(() => null),
          ...pieces.words.slice(0, kept),
          ...this.after.map(() => null),
        ],
      };
    });

    const batch = rows.length;
    const seq = Math.max(...rows.map((row) => row.ids.length));
    const inputIds = new Int32Array(batch * seq).fill(padId);
    const attentionMask = new Int32Array(batch * seq);
    const tokenTypeIds = new Int32Array(batch * seq).fill(this.file.padTypeId);
    rows.forEach((row, b) => {
      inputIds.set(row.ids, b * seq);
      attentionMask.fill(1, b * seq, b * seq + row.ids.length);
      tokenTypeIds.set(row.typeIds, b * seq);
    });
    return {
      inputIds,
      attentionMask,
      tokenTypeIds,
      batch,
      seq,
      padId,
      tokens: rows.map((row) => row.tokens),
      words: rows.map((row) => row.words),
      truncated,
    };
  }

  private padId(options: EncodeOptions): number {
    for (const [key, value] of [
      ['padId', options.padId],
      ['eosId', options.eosId],
    ] as const) {
      if (value !== undefined && !(Number.isSafeInteger(value) && value >= 0)) {
        throw new ArgumentError(
          `${key} must be an integer of at least 0, got ${describeValue(value)}`,
        );
      }
    }
    return (
      this.file.padId ?? options.padId ?? this.configPadId ?? options.eosId ?? this.configEosId ?? 0
    );
  }

  /**
   * The library's own pipeline (added tokens, normalizer, pre-tokenizer, model), one word at a
   * time so that each token keeps its word's index.
   */
  private pieces(text: string, index: number): Pieces {
    const pieces: Pieces = { tokens: [], ids: [], words: [] };
    let word = 0;
    const push = (token: string, id: number) => {
      pieces.tokens.push(token);
      pieces.ids.push(id);
      pieces.words.push(word);
    };
    const { normalizer, pre_tokenizer: preTokenizer, model } = this.library;
    this.unnormalized.split(text).forEach((section, sectionIndex) => {
      if (section.text === '') return;
      if (section.token) {
        push(section.token.content, section.token.id);
        word++;
        return;
      }
      const normalizedText = normalizer ? normalizer(section.text) : section.text;
      for (const part of this.normalized.split(normalizedText)) {
        if (part.text === '') continue;
        if (part.token) {
          push(part.token.content, part.token.id);
          word++;
          continue;
        }
        const words = preTokenizer
          ? preTokenizer(part.text, { section_index: sectionIndex })
          : [part.text];
        for (const written of words) {
          for (const token of model!([written])) push(token, this.idOf(token, index));
          word++;
        }
      }
    });
    return pieces;
  }

  private idOf(token: string, index: number): number {
    const id = this.library.token_to_id(token) ?? this.library.model?.unk_token_id;
    if (id === undefined) {
      throw new TokenizerError(
        this.source,
        `text ${index + 1} has the token ${JSON.stringify(token)}, not in the vocabulary, and there is no unk_token`,
        'model.vocab',
      );
    }
    return id;
  }
}
