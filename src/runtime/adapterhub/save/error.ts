import { AdaptError } from '../../errors.js';

/** What cannot be written as an AdapterHub directory, naming the adapter, head or fusion. */
export class SaveError extends AdaptError {
  override name = 'SaveError';
}
