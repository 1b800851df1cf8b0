import { loadPytorchStateDict } from '../runtime/pytorch/index.js';
import { loadSafetensors, type TensorMap } from '../runtime/safetensors.js';
import { toCliError } from './runtime-errors.js';

/** `PK\x03\x04`: a zip archive, as torch.save writes since PyTorch 1.6. */
const ZIP_MAGIC = [0x50, 0x4b, 0x03, 0x04];

/** Whether the bytes are a PyTorch checkpoint (.bin) rather than safetensors. */
function isPytorchFile(bytes: Uint8Array, path: string): boolean {
  const zip = ZIP_MAGIC.every((byte, i) => bytes[i] === byte);
  return zip || path.endsWith('.bin') || path.endsWith('.pt') || path.endsWith('.pth');
}

/**
 * The tensors of one weight file: safetensors, or a PyTorch state dict read strictly (nothing
 * in it runs); a corrupt or unsafe file is one clear error naming it.
 */
export function parseTensorFile(bytes: Uint8Array, path: string): TensorMap {
  try {
    return isPytorchFile(bytes, path)
      ? loadPytorchStateDict(bytes, path)
      : loadSafetensors(bytes, path);
  } catch (error) {
    throw toCliError(error);
  }
}
