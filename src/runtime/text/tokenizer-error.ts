import { AdaptError } from '../errors.js';

/** A tokenizer.json or tokenizer_config.json that cannot be used, with the file and the key. */
export class TokenizerError extends AdaptError {
  override name = 'TokenizerError';
  readonly file: string;
  readonly key?: string;

  constructor(file: string, message: string, key?: string) {
    super(`${file}: ${key === undefined ? '' : `${key}: `}${message}`);
    this.file = file;
    if (key !== undefined) this.key = key;
  }
}
