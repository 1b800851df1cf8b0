/**
 * The storages of a torch.save archive: each persistent id
 * `('storage', torch.FloatStorage, key, location, numel)` names the raw little-endian bytes of
 * `ARCHIVE/data/KEY` (pytorch/pytorch torch/serialization.py: `_save`, `persistent_id`, and
 * `_load`, `persistent_load`).
 */

import type { SafetensorsDType } from '../safetensors.js';
import { PytorchCheckpointError } from './error.js';
import { PickleGlobal, PickleTuple, describe, type PickleValue } from './pickle.js';

export interface StorageType {
  /** The dtype a tensor of this storage has in the returned TensorMap. */
  readonly dtype: SafetensorsDType;
  readonly itemSize: number;
}

/** The storage classes a state dict's persistent ids name, as `torch.NAME`. */
export const STORAGE_TYPES: ReadonlyMap<string, StorageType | string> = new Map<
  string,
  StorageType | string
>([
  ['torch.FloatStorage', { dtype: 'F32', itemSize: 4 }],
  ['torch.HalfStorage', { dtype: 'F16', itemSize: 2 }],
  ['torch.BFloat16Storage', { dtype: 'BF16', itemSize: 2 }],
  ['torch.LongStorage', { dtype: 'I64', itemSize: 8 }],
  ['torch.IntStorage', { dtype: 'I32', itemSize: 4 }],
  ['torch.ByteStorage', { dtype: 'U8', itemSize: 1 }],
  // A bool is one byte, 0 or 1; it is returned as U8.
  ['torch.BoolStorage', { dtype: 'U8', itemSize: 1 }],
  [
    'torch.DoubleStorage',
    'float64 tensors are not read (tensors here are f32, f16, bf16 or integers); convert them with .float() before saving',
  ],
]);

export class Storage {
  constructor(
    readonly key: string,
    readonly type: StorageType | string,
    readonly typeName: string,
    readonly bytes: Uint8Array,
    readonly numel: number,
  ) {}
}

const STORAGE_KEY = /^[A-Za-z0-9_]+$/;

/** A persistent_load for the storages of one archive; each key is read once and shared. */
export function storageLoader(
  entries: ReadonlyMap<string, Uint8Array>,
  archive: string,
  file: string,
): (pid: PickleValue) => Storage {
  const loaded = new Map<string, Storage>();
  const fail = (message: string) => new PytorchCheckpointError(file, `persistent id: ${message}`);
  return (pid) => {
    if (!(pid instanceof PickleTuple) || pid.items.length !== 5 || pid.items[0] !== 'storage')
      throw fail(`expected ('storage', type, key, location, numel), got ${describe(pid)}`);
    const [, type, key, location, numel] = pid.items;
    if (!(type instanceof PickleGlobal) || !STORAGE_TYPES.has(type.qualifiedName))
      throw fail(`storage type ${describe(type!)} is not a storage class`);
    if (typeof key !== 'string' || !STORAGE_KEY.test(key))
      throw fail(`storage key ${describe(key!)} is not a plain name`);
    if (typeof location !== 'string')
      throw fail(`storage '${key}': location ${describe(location!)} is not a string`);
    if (typeof numel !== 'number' || !Number.isSafeInteger(numel) || numel < 0)
      throw fail(
        `storage '${key}': element count ${describe(numel!)} is not a non-negative integer`,
      );

    const previous = loaded.get(key);
    if (previous !== undefined) {
      if (previous.typeName !== type.qualifiedName || previous.numel !== numel)
        throw fail(
          `storage '${key}' is both ${previous.typeName} of ${previous.numel} and ${type.qualifiedName} of ${numel} elements`,
        );
      return previous;
    }
    const path = `${archive}/data/${key}`;
    const bytes = entries.get(path);
    if (bytes === undefined) throw fail(`storage '${key}': the archive has no entry '${path}'`);
    const storageType = STORAGE_TYPES.get(type.qualifiedName)!;
    if (typeof storageType !== 'string' && bytes.byteLength !== numel * storageType.itemSize)
      throw fail(
        `storage '${key}': '${path}' is ${bytes.byteLength} bytes, but ${numel} elements of ${type.qualifiedName} are ${numel * storageType.itemSize}`,
      );
    const storage = new Storage(key, storageType, type.qualifiedName, bytes, numel);
    loaded.set(key, storage);
    return storage;
  };
}
