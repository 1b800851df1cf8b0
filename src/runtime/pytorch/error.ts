import { AdaptError } from '../errors.js';

/** A torch.save checkpoint that cannot be read safely; names the file, and the tensor where there is one. */
export class PytorchCheckpointError extends AdaptError {
  override name = 'PytorchCheckpointError';
  readonly file: string;
  readonly tensor?: string;

  constructor(file: string, message: string, tensor?: string) {
    super(`${file}: ${tensor === undefined ? '' : `tensor '${tensor}': `}${message}`);
    this.file = file;
    if (tensor !== undefined) this.tensor = tensor;
  }
}
