import { describeValue, isRecord } from '../guards.js';
import { TokenizerError } from './tokenizer-error.js';

/** What adaptc reads from tokenizer_config.json: special token names and the length limit. */
export interface TokenizerConfigTokens {
  readonly padToken?: string;
  readonly eosToken?: string;
  /** `model_max_length`, where it is a real limit (transformers writes 1e30 for none). */
  readonly modelMaxLength?: number;
}

/**
 * A fast tokenizer takes its pipeline from tokenizer.json alone; tokenizer_config.json only
 * names special tokens. Each is a string or, in older files, `{"content": "…", …}`.
 */
export function readTokenizerConfig(config: unknown, source: string): TokenizerConfigTokens {
  if (config === undefined) return {};
  if (!isRecord(config))
    throw new TokenizerError(source, `must be a JSON object, got ${describeValue(config)}`);
  const padToken = readTokenName(config.pad_token, 'pad_token', source);
  const eosToken = readTokenName(config.eos_token, 'eos_token', source);
  const limit = config.model_max_length;
  if (limit !== undefined && limit !== null && !(typeof limit === 'number' && limit >= 1)) {
    throw new TokenizerError(
      source,
      `must be a positive number, got ${describeValue(limit)}`,
      'model_max_length',
    );
  }
  const modelMaxLength =
    typeof limit === 'number' && limit <= 0x7fffffff ? Math.floor(limit) : undefined;
  return {
    ...(padToken === undefined ? {} : { padToken }),
    ...(eosToken === undefined ? {} : { eosToken }),
    ...(modelMaxLength === undefined ? {} : { modelMaxLength }),
  };
}

function readTokenName(value: unknown, key: string, source: string): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value === 'string') return value;
  if (isRecord(value) && typeof value.content === 'string') return value.content;
  throw new TokenizerError(
    source,
    `must be a token (a string or {"content": "…"}), got ${describeValue(value)}`,
    key,
  );
}
