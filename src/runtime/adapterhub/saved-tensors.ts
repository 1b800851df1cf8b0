import { WeightError } from '../errors.js';
import type { TensorMap } from '../safetensors.js';

/** What an AdapterHub weights file holds: one adapter's, one head's or one fusion's tensors. */
export type SavedKind = 'adapter' | 'head' | 'fusion';

/** The weights files `save_adapter`, `save_head` and `save_adapter_fusion` write (`loading.py`). */
export const SAVED_WEIGHT_FILES: Readonly<
  Record<SavedKind, { readonly safetensors: string; readonly pytorch: string }>
> = {
  adapter: { safetensors: 'adapter.safetensors', pytorch: 'pytorch_adapter.bin' },
  head: { safetensors: 'model_head.safetensors', pytorch: 'pytorch_model_head.bin' },
  fusion: {
    safetensors: 'model_adapter_fusion.safetensors',
    pytorch: 'pytorch_model_adapter_fusion.bin',
  },
};

/** The part of a tensor name that names the saved module: `.adapters.NAME.`, `heads.NAME.`, … */
function marker(kind: SavedKind, name: string): string {
  switch (kind) {
    case 'adapter':
      return `.adapters.${name}.`;
    case 'head':
      return `heads.${name}.`;
    case 'fusion':
      return `.adapter_fusion_layer.${name}.`;
  }
}

/**
 * The tensors of an AdapterHub weights file under the name the spec declares, as the library's
 * `load_adapter(..., load_as=NAME)` renames them (`WeightsLoaderHelper.rename_func`):
 * `….adapters.SAVED.…` becomes `….adapters.NAME.…` (`heads.SAVED.…`,
 * `….adapter_fusion_layer.SAVED.…` likewise). A tensor of another module is an error naming the
 * file and the tensor: such a file is not what its directory says it is.
 */
export function renameSavedTensors(
  tensors: TensorMap,
  kind: SavedKind,
  savedName: string,
  name: string,
  file: string,
): TensorMap {
  const from = marker(kind, savedName);
  const to = marker(kind, name);
  const renamed: TensorMap = new Map();
  const strangers: string[] = [];
  for (const [tensorName, tensor] of tensors) {
    const at = kind === 'head' ? (tensorName.startsWith(from) ? 0 : -1) : tensorName.indexOf(from);
    if (at < 0) {
      strangers.push(tensorName);
      continue;
    }
    renamed.set(tensorName.slice(0, at) + to + tensorName.slice(at + from.length), tensor);
  }
  if (strangers.length > 0) {
    const shown = strangers
      .slice(0, 5)
      .map((n) => `'${n}'`)
      .join(', ');
    throw new WeightError([
      `${file}: ${strangers.length} tensor${strangers.length > 1 ? 's are' : ' is'} not of ${kind} '${savedName}' (no '${from}' in the name${strangers.length > 1 ? 's' : ''}): ${shown}${strangers.length > 5 ? ', …' : ''}`,
    ]);
  }
  if (renamed.size === 0) throw new WeightError([`${file}: holds no tensors`]);
  if (kind === 'adapter') dropSharedTwins(renamed, file);
  return renamed;
}

/**
 * An adapter with `ln_before` registers its LayerNorm twice: as `adapter_norm_before` and as
 * `adapter_down.0` of the Sequential around it (`Adapter.__init__`), so its state dict holds the
 * same tensors under both names, and the down projection is `adapter_down.1`. The twin is dropped
 * where it holds the same values; a twin that differs is an error: the file was edited.
 */
function dropSharedTwins(tensors: TensorMap, file: string): void {
  for (const name of [...tensors.keys()]) {
    const match = /^(.*\.)adapter_norm_before\.(weight|bias)$/.exec(name);
    if (!match) continue;
    const twin = `${match[1]!}adapter_down.0.${match[2]!}`;
    const a = tensors.get(name)!;
    const b = tensors.get(twin);
    if (b === undefined || !tensors.has(`${match[1]!}adapter_down.1.weight`)) continue;
    const same =
      a.shape.length === b.shape.length &&
      a.shape.every((d, i) => d === b.shape[i]) &&
      a.data.length === b.data.length &&
      a.data.every((v, i) => Object.is(v, b.data[i]));
    if (!same)
      throw new WeightError([
        `${file}: tensor '${twin}' must equal '${name}' (the same LayerNorm, saved twice), but differs`,
      ]);
    tensors.delete(twin);
  }
}
