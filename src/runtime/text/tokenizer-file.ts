import { describeValue, isRecord } from '../guards.js';
import { TokenizerError } from './tokenizer-error.js';

/**
 * Strict reading of a Hugging Face tokenizer.json: every key the tokenizer depends on is checked
 * here, so a bad file gets one error naming the file and the key instead of a failure (or a
 * silent wrong answer) deep inside the tokenizer library.
 */

export const MODEL_TYPES = ['WordPiece', 'BPE'] as const;
export type TokenizerModelType = (typeof MODEL_TYPES)[number];

const COMPONENTS = ['normalizer', 'pre_tokenizer', 'post_processor', 'decoder'] as const;

export interface AddedTokenEntry {
  readonly id: number;
  readonly content: string;
  readonly lstrip: boolean;
  readonly rstrip: boolean;
  /** Matched in the normalized text (true) or in the text as written (false). */
  readonly normalized: boolean;
  readonly special: boolean;
}

export interface TokenizerFile {
  /** The file's object with the keys the library requires present (null or a default). */
  readonly json: Record<string, unknown>;
  readonly modelType: TokenizerModelType;
  readonly addedTokens: readonly AddedTokenEntry[];
  /** One past the largest id in `model.vocab` and `added_tokens`. */
  readonly vocabSize: number;
  /** `padding.pad_id`, where the file sets padding. */
  readonly padId?: number;
  /** `padding.pad_type_id`, else 0. */
  readonly padTypeId: number;
}

export function readTokenizerFile(input: string | object, source: string): TokenizerFile {
  const fail = (message: string, key?: string) => new TokenizerError(source, message, key);
  const root = typeof input === 'string' ? parseJson(input, source) : input;
  if (!isRecord(root)) throw fail(`must be a JSON object, got ${describeValue(root)}`);

  const model = root.model;
  if (!isRecord(model)) throw fail(`must be an object, got ${describeValue(model)}`, 'model');
  const modelType = readModelType(model.type, fail);
  const vocab = readVocab(model.vocab, fail);
  const addedTokens = readAddedTokens(root.added_tokens, fail);
  const known = (token: string) =>
    vocab.has(token) || addedTokens.some((added) => added.content === token);
  const checkedModel =
    modelType === 'WordPiece' ? readWordPiece(model, known, fail) : readBpe(model, known, fail);

  const components = Object.fromEntries(
    COMPONENTS.map((key) => [key, readComponent(root[key], key, fail)]),
  );
  readOptionalObject(root.truncation, 'truncation', fail);
  const padding = readOptionalObject(root.padding, 'padding', fail);
  const padId = padding ? readOptionalId(padding.pad_id, 'padding.pad_id', fail) : undefined;
  const padTypeId =
    (padding && readOptionalId(padding.pad_type_id, 'padding.pad_type_id', fail)) ?? 0;

  const ids = [...vocab.values(), ...addedTokens.map((added) => added.id)];
  return {
    json: { ...root, ...components, model: checkedModel, added_tokens: root.added_tokens ?? [] },
    modelType,
    addedTokens,
    vocabSize: ids.reduce((max, id) => Math.max(max, id + 1), 0),
    ...(padId === undefined ? {} : { padId }),
    padTypeId,
  };
}

type Fail = (message: string, key?: string) => TokenizerError;

/** JSON.parse, with its "at position N" turned into a line and column. */
export function parseJson(text: string, source: string): unknown {
  const body = text.startsWith('\uFEFF') ? text.slice(1) : text;
  try {
    return JSON.parse(body);
  } catch (e) {
    const message = e instanceof Error ? e.message : String(e);
    const at = /at position (\d+)/.exec(message);
    if (!at) throw new TokenizerError(source, `not valid JSON: ${message}`);
    const offset = Number(at[1]);
    const before = body.slice(0, offset).split('\n');
    const line = before.length;
    const column = before[before.length - 1]!.length + 1;
    const reason = message
      .slice(0, at.index)
      .trim()
      .replace(/ in JSON$/, '');
    throw new TokenizerError(`${source}:${line}:${column}`, `not valid JSON: ${reason}`);
  }
}

function readModelType(type: unknown, fail: Fail): TokenizerModelType {
  const supported = `(${MODEL_TYPES.join(', ')})`;
  if (type === undefined) throw fail(`missing; it must be one of ${supported}`, 'model.type');
  const found = MODEL_TYPES.find((name) => name === type);
  if (found === undefined) {
    const shown = typeof type === 'string' ? `'${type}'` : describeValue(type);
    throw fail(`${shown} is not supported ${supported}`, 'model.type');
  }
  return found;
}

function readVocab(vocab: unknown, fail: Fail): Map<string, number> {
  if (!isRecord(vocab))
    throw fail(`must be an object of token ids, got ${describeValue(vocab)}`, 'model.vocab');
  const byToken = new Map<string, number>();
  const byId = new Map<number, string>();
  for (const [token, id] of Object.entries(vocab)) {
    if (!isId(id))
      throw fail(
        `'${token}': must be an integer id of at least 0, got ${describeValue(id)}`,
        'model.vocab',
      );
    const other = byId.get(id);
    if (other !== undefined)
      throw fail(`'${other}' and '${token}' both have id ${id}`, 'model.vocab');
    byId.set(id, token);
    byToken.set(token, id);
  }
  if (byToken.size === 0) throw fail('is empty', 'model.vocab');
  return byToken;
}

function readAddedTokens(value: unknown, fail: Fail): AddedTokenEntry[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value))
    throw fail(`must be an array, got ${describeValue(value)}`, 'added_tokens');
  return value.map((entry: unknown, i) => {
    const key = `added_tokens[${i}]`;
    if (!isRecord(entry)) throw fail(`must be an object, got ${describeValue(entry)}`, key);
    if (!isId(entry.id))
      throw fail(`must be an integer of at least 0, got ${describeValue(entry.id)}`, `${key}.id`);
    if (typeof entry.content !== 'string' || entry.content === '') {
      throw fail(
        `must be a non-empty string, got ${describeValue(entry.content)}`,
        `${key}.content`,
      );
    }
    const flag = (name: string, fallback: boolean): boolean => {
      const flagValue = entry[name];
      if (flagValue === undefined) return fallback;
      if (typeof flagValue !== 'boolean')
        throw fail(`must be true or false, got ${describeValue(flagValue)}`, `${key}.${name}`);
      return flagValue;
    };
    if (flag('single_word', false))
      throw fail(
        'true is not supported (tokens matched only as whole words)',
        `${key}.single_word`,
      );
    const special = flag('special', false);
    return {
      id: entry.id,
      content: entry.content,
      lstrip: flag('lstrip', false),
      rstrip: flag('rstrip', false),
      normalized: flag('normalized', !special),
      special,
    };
  });
}

function readWordPiece(
  model: Record<string, unknown>,
  known: (token: string) => boolean,
  fail: Fail,
): Record<string, unknown> {
  const unk = model.unk_token;
  if (typeof unk !== 'string')
    throw fail(`must be a string, got ${describeValue(unk)}`, 'model.unk_token');
  if (!known(unk)) throw fail(`'${unk}' is not in model.vocab`, 'model.unk_token');
  const prefix = model.continuing_subword_prefix ?? '##';
  if (typeof prefix !== 'string') {
    throw fail(`must be a string, got ${describeValue(prefix)}`, 'model.continuing_subword_prefix');
  }
  const maxChars = model.max_input_chars_per_word ?? 100;
  if (!(isId(maxChars) && maxChars > 0)) {
    throw fail(
      `must be a positive integer, got ${describeValue(maxChars)}`,
      'model.max_input_chars_per_word',
    );
  }
  return {
    ...model,
    continuing_subword_prefix: prefix,
    max_input_chars_per_word: maxChars,
  };
}

function readBpe(
  model: Record<string, unknown>,
  known: (token: string) => boolean,
  fail: Fail,
): Record<string, unknown> {
  const merges = model.merges;
  if (!Array.isArray(merges))
    throw fail(`must be an array, got ${describeValue(merges)}`, 'model.merges');
  merges.forEach((merge: unknown, i) => {
    const pair = typeof merge === 'string' ? merge.split(' ') : merge;
    const valid =
      Array.isArray(pair) &&
      pair.length === 2 &&
      pair.every((part) => typeof part === 'string' && part !== '');
    if (!valid) {
      throw fail(
        `must be two tokens, as "a b" or ["a", "b"], got ${describeValue(merge)}`,
        `model.merges[${i}]`,
      );
    }
  });
  const unk = model.unk_token ?? null;
  if (unk !== null && typeof unk !== 'string')
    throw fail(`must be a string or null, got ${describeValue(unk)}`, 'model.unk_token');
  if (typeof unk === 'string' && !known(unk))
    throw fail(`'${unk}' is not in model.vocab`, 'model.unk_token');
  const dropout = model.dropout ?? null;
  if (dropout !== null && dropout !== 0) {
    throw fail(
      `${describeValue(dropout)} is not supported (it makes tokens random)`,
      'model.dropout',
    );
  }
  const prefix = model.continuing_subword_prefix ?? '';
  if (prefix !== '') {
    throw fail(
      `${describeValue(prefix)} is not supported for BPE`,
      'model.continuing_subword_prefix',
    );
  }
  const suffix = model.end_of_word_suffix ?? '';
  if (typeof suffix !== 'string')
    throw fail(
      `must be a string or null, got ${describeValue(suffix)}`,
      'model.end_of_word_suffix',
    );
  for (const name of ['fuse_unk', 'byte_fallback', 'ignore_merges']) {
    const value = model[name];
    if (value !== undefined && value !== null && typeof value !== 'boolean')
      throw fail(`must be true or false, got ${describeValue(value)}`, `model.${name}`);
  }
  return {
    ...model,
    unk_token: unk ?? undefined,
    end_of_word_suffix: suffix === '' ? undefined : suffix,
  };
}

function readComponent(value: unknown, key: string, fail: Fail): Record<string, unknown> | null {
  const component = readOptionalObject(value, key, fail);
  if (component && typeof component.type !== 'string')
    throw fail(`must be a string, got ${describeValue(component.type)}`, `${key}.type`);
  return component;
}

function readOptionalObject(
  value: unknown,
  key: string,
  fail: Fail,
): Record<string, unknown> | null {
  if (value === undefined || value === null) return null;
  if (!isRecord(value)) throw fail(`must be an object or null, got ${describeValue(value)}`, key);
  return value;
}

function readOptionalId(value: unknown, key: string, fail: Fail): number | undefined {
  if (value === undefined || value === null) return undefined;
  if (!isId(value))
    throw fail(`must be an integer of at least 0, got ${describeValue(value)}`, key);
  return value;
}

function isId(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}
