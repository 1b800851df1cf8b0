import { describeValue, isRecord } from '../guards.js';
import { TokenizerError } from './tokenizer-error.js';

/** What adaptc reads from tokenizer_config.json: the names of the padding and end tokens. */
export interface TokenizerConfigTokens {
  readonly padToken?: string;
  readonly eosToken?: string;
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
  return {
    ...(padToken === undefined ? {} : { padToken }),
    ...(eosToken === undefined ? {} : { eosToken }),
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
