import { AdaptError } from '../../../runtime/errors.js';

/** An AdapterHub adapter configuration adaptc cannot read or run; names the file and the key. */
export class AdapterConfigError extends AdaptError {
  override name = 'AdapterConfigError';
  readonly file: string;
  readonly key?: string;

  constructor(file: string, message: string, key?: string) {
    super(`${file}: ${key === undefined ? '' : `${key}: `}${message}`);
    this.file = file;
    if (key !== undefined) this.key = key;
  }
}
