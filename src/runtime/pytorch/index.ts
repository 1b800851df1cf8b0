/**
 * A strict reader of PyTorch checkpoints written by torch.save since PyTorch 1.6 (the zip
 * format: `ARCHIVE/data.pkl`, a pickle of the state dict, and `ARCHIVE/data/KEY`, one entry of
 * raw little-endian bytes per storage). The pickle is interpreted by a restricted machine that
 * knows only the globals a state dict names; nothing in the file is ever executed.
 *
 * Runs in browsers too: no Node APIs, only typed arrays, DataView and TextDecoder.
 */

import { ArgumentError } from '../errors.js';
import { describeValue, readingCallerValues } from '../guards.js';
import type { TensorMap } from '../safetensors.js';
import { PytorchCheckpointError } from './error.js';
import { PickleDict, PickleObject, describe, unpickle } from './pickle.js';
import { TensorView, stateDictGlobals } from './rebuild.js';
import { storageLoader } from './storage.js';
import { materialize } from './tensor.js';
import { ZIP_SIGNATURE, readStoredZip, type ZipEntries } from './zip.js';

export { PytorchCheckpointError } from './error.js';

/**
 * The start of a legacy torch.save file: PROTO 2, then LONG1 of the 10-byte magic number
 * 0x1950a86a20f9469cfc6c (pytorch/pytorch torch/serialization.py: `MAGIC_NUMBER`, `_legacy_save`).
 */
const LEGACY_PREFIX = [
  0x80, 0x02, 0x8a, 0x0a, 0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19,
];

/** Reads the tensors of a torch.save state dict (a dict or OrderedDict of tensors by name). */
export function loadPytorchStateDict(bytes: Uint8Array, file: string): TensorMap {
  if (typeof file !== 'string')
    throw new ArgumentError(`the file name must be a string, got ${describeValue(file)}`);
  if (!(bytes instanceof Uint8Array))
    throw new ArgumentError(
      `${file}: a PyTorch checkpoint must be given as a Uint8Array, got ${describeValue(bytes)}`,
    );
  const plain = new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return readingCallerValues(
    () => readCheckpoint(plain, file),
    (why) => new PytorchCheckpointError(file, why),
  );
}

function readCheckpoint(bytes: Uint8Array, file: string): TensorMap {
  if (startsWith(bytes, LEGACY_PREFIX))
    throw new PytorchCheckpointError(
      file,
      'this is a legacy torch.save file (before PyTorch 1.6); re-save it with torch.save(..., _use_new_zipfile_serialization=True) or as safetensors',
    );
  if (!startsWith(bytes, ZIP_SIGNATURE))
    throw new PytorchCheckpointError(
      file,
      'not a torch.save checkpoint: it does not start with a zip local header (PK\\x03\\x04)',
    );
  const entries = readStoredZip(bytes, file);
  const archive = archiveName(entries, file);
  checkByteOrder(entries, archive, file);

  const load = storageLoader(entries, archive, file);
  const root = unpickle(entries.get(`${archive}/data.pkl`)!, {
    file,
    globals: stateDictGlobals(file),
    persistentLoad: (pid) => new PickleObject(load(pid)),
  });
  if (!(root instanceof PickleDict))
    throw new PytorchCheckpointError(file, `the pickle holds ${describe(root)}, not a state dict`);

  const tensors: TensorMap = new Map();
  for (const [name, value] of root.entries) {
    if (typeof name !== 'string')
      throw new PytorchCheckpointError(file, `state dict key ${describe(name)} is not a string`);
    if (!(value instanceof PickleObject) || !(value.value instanceof TensorView))
      throw new PytorchCheckpointError(file, `is ${describe(value)}, not a tensor`, name);
    tensors.set(name, materialize(value.value, name, file));
  }
  return tensors;
}

/** The one top-level folder every entry lies in (torch.save names it after the file). */
function archiveName(entries: ZipEntries, file: string): string {
  const pickles = [...entries.keys()].filter((name) => /^[^/]+\/data\.pkl$/.test(name));
  if (pickles.length !== 1)
    throw new PytorchCheckpointError(
      file,
      pickles.length === 0
        ? 'the archive has no ARCHIVE/data.pkl; not a torch.save checkpoint'
        : `the archive has ${pickles.length} data.pkl entries (${pickles.join(', ')})`,
    );
  const archive = pickles[0]!.slice(0, -'/data.pkl'.length);
  const stray = [...entries.keys()].find((name) => !name.startsWith(`${archive}/`));
  if (stray !== undefined)
    throw new PytorchCheckpointError(
      file,
      `entry '${stray}' lies outside the archive folder '${archive}/'`,
    );
  return archive;
}

function checkByteOrder(entries: ZipEntries, archive: string, file: string): void {
  const raw = entries.get(`${archive}/byteorder`);
  if (raw === undefined) return;
  const order = new TextDecoder().decode(raw);
  if (order !== 'little')
    throw new PytorchCheckpointError(
      file,
      `'${archive}/byteorder' is '${order}'; only little-endian checkpoints are read`,
    );
}

function startsWith(bytes: Uint8Array, prefix: readonly number[]): boolean {
  return prefix.length <= bytes.byteLength && prefix.every((byte, i) => bytes[i] === byte);
}
