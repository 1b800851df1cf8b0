/**
 * A strict reader of the ZIP archives torch.save writes (PyTorchStreamWriter): every entry
 * stored (method 0), one disk, ZIP64 records where sizes or offsets pass 4 GiB. The central
 * directory is the only index trusted, and every local header must agree with it.
 */

import { PytorchCheckpointError } from './error.js';

const LOCAL_HEADER = 0x04034b50;
const CENTRAL_HEADER = 0x02014b50;
const END_OF_DIRECTORY = 0x06054b50;
const ZIP64_END_OF_DIRECTORY = 0x06064b50;
const ZIP64_LOCATOR = 0x07064b50;
const ZIP64_EXTRA_ID = 0x0001;
const END_OF_DIRECTORY_SIZE = 22;
const ZIP64_LOCATOR_SIZE = 20;
const MAX_COMMENT = 0xffff;
const STORED = 0;
const FLAG_ENCRYPTED = 0x1;
const FLAG_DATA_DESCRIPTOR = 0x8;
const U16_MAX = 0xffff;
const U32_MAX = 0xffffffff;

/** Entry name -> its bytes (views into the archive). */
export type ZipEntries = Map<string, Uint8Array>;

export const ZIP_SIGNATURE = [0x50, 0x4b, 0x03, 0x04] as const;

interface Directory {
  count: number;
  offset: number;
  size: number;
}

export function readStoredZip(bytes: Uint8Array, file: string): ZipEntries {
  const fail = (message: string) => new PytorchCheckpointError(file, `zip archive: ${message}`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const directory = findDirectory(bytes, view, fail);

  const entries: ZipEntries = new Map();
  let at = directory.offset;
  for (let index = 0; index < directory.count; index++) {
    if (at + 46 > directory.offset + directory.size)
      throw fail(`central directory entry ${index} runs past the directory's end`);
    if (view.getUint32(at, true) !== CENTRAL_HEADER)
      throw fail(`central directory entry ${index} at byte ${at} has no central header signature`);
    const flags = view.getUint16(at + 8, true);
    const method = view.getUint16(at + 10, true);
    const crc = view.getUint32(at + 16, true);
    let compressedSize = view.getUint32(at + 20, true);
    let size = view.getUint32(at + 24, true);
    const nameLength = view.getUint16(at + 28, true);
    const extraLength = view.getUint16(at + 30, true);
    const commentLength = view.getUint16(at + 32, true);
    const diskStart = view.getUint16(at + 34, true);
    let localOffset = view.getUint32(at + 42, true);
    const end = at + 46 + nameLength + extraLength + commentLength;
    if (end > directory.offset + directory.size)
      throw fail(`central directory entry ${index} runs past the directory's end`);
    const name = decodeName(bytes.subarray(at + 46, at + 46 + nameLength), index, fail);
    const entryFail = (message: string) => fail(`entry '${name}': ${message}`);

    const extra = bytes.subarray(at + 46 + nameLength, at + 46 + nameLength + extraLength);
    const zip64 = readZip64Extra(extra, entryFail);
    if (size === U32_MAX) size = zip64.next('uncompressed size');
    if (compressedSize === U32_MAX) compressedSize = zip64.next('compressed size');
    if (localOffset === U32_MAX) localOffset = zip64.next('local header offset');
    if (diskStart !== 0 && diskStart !== U16_MAX)
      throw entryFail('archives on several disks are not supported');

    if (entries.has(name)) throw entryFail('appears twice in the central directory');
    if (flags & FLAG_ENCRYPTED) throw entryFail('is encrypted');
    if (method !== STORED)
      throw entryFail(
        `is compressed (method ${method}); torch.save stores entries uncompressed (method 0), the only method read here`,
      );
    if (compressedSize !== size)
      throw entryFail(
        `is stored but its compressed size ${compressedSize} differs from its size ${size}`,
      );

    const data = readLocalEntry(
      bytes,
      view,
      { name, localOffset, size, flags, directory },
      entryFail,
    );
    if (crc32(data) !== crc) throw entryFail('CRC-32 does not match its data (corrupt file)');
    entries.set(name, data);
    at = end;
  }
  if (at !== directory.offset + directory.size)
    throw fail(
      `central directory is ${directory.size} bytes but its ${directory.count} entries fill ${at - directory.offset}`,
    );
  return entries;
}

function findDirectory(
  bytes: Uint8Array,
  view: DataView,
  fail: (message: string) => PytorchCheckpointError,
): Directory {
  const earliest = Math.max(0, bytes.byteLength - END_OF_DIRECTORY_SIZE - MAX_COMMENT);
  let eocd = -1;
  for (let at = bytes.byteLength - END_OF_DIRECTORY_SIZE; at >= earliest; at--) {
    if (
      view.getUint32(at, true) === END_OF_DIRECTORY &&
      at + END_OF_DIRECTORY_SIZE + view.getUint16(at + 20, true) === bytes.byteLength
    ) {
      eocd = at;
      break;
    }
  }
  if (eocd < 0) throw fail('no end of central directory record (truncated or not a zip file)');
  const disk = view.getUint16(eocd + 4, true);
  const directoryDisk = view.getUint16(eocd + 6, true);
  const countOnDisk = view.getUint16(eocd + 8, true);
  let directory: Directory = {
    count: view.getUint16(eocd + 10, true),
    size: view.getUint32(eocd + 12, true),
    offset: view.getUint32(eocd + 16, true),
  };
  const needsZip64 =
    directory.count === U16_MAX || directory.size === U32_MAX || directory.offset === U32_MAX;
  const locator = eocd - ZIP64_LOCATOR_SIZE;
  const hasZip64 = locator >= 0 && view.getUint32(locator, true) === ZIP64_LOCATOR;
  if (hasZip64) {
    const zip64 = readZip64Directory(view, locator, fail);
    // A 32-bit field that is not the ZIP64 sentinel must say what the ZIP64 record says.
    const disagrees =
      (directory.count !== U16_MAX && directory.count !== zip64.count) ||
      (directory.size !== U32_MAX && directory.size !== zip64.size) ||
      (directory.offset !== U32_MAX && directory.offset !== zip64.offset);
    if (disagrees)
      throw fail(
        `the end record (${directory.count} entries, ${directory.size} bytes at ${directory.offset}) and the ZIP64 end record (${zip64.count} entries, ${zip64.size} bytes at ${zip64.offset}) disagree`,
      );
    directory = zip64;
  } else if (needsZip64) {
    throw fail('the end record points to ZIP64 records, but there is no ZIP64 locator');
  } else if (disk !== 0 || directoryDisk !== 0 || countOnDisk !== directory.count) {
    throw fail('archives on several disks are not supported');
  }
  const directoryEnd = directory.offset + directory.size;
  const limit = hasZip64 ? zip64RecordStart(view, locator) : eocd;
  if (directoryEnd > limit)
    throw fail(
      `central directory [${directory.offset}, ${directoryEnd}) runs past the end records (byte ${limit})`,
    );
  return directory;
}

function zip64RecordStart(view: DataView, locator: number): number {
  return Number(view.getBigUint64(locator + 8, true));
}

function readZip64Directory(
  view: DataView,
  locator: number,
  fail: (message: string) => PytorchCheckpointError,
): Directory {
  if (view.getUint32(locator + 4, true) !== 0 || view.getUint32(locator + 16, true) !== 1)
    throw fail('archives on several disks are not supported');
  const at = safeNumber(view.getBigUint64(locator + 8, true), 'ZIP64 end record offset', fail);
  if (at + 56 > locator || view.getUint32(at, true) !== ZIP64_END_OF_DIRECTORY)
    throw fail(`ZIP64 end of central directory record expected at byte ${at}, not found`);
  if (view.getUint32(at + 16, true) !== 0 || view.getUint32(at + 20, true) !== 0)
    throw fail('archives on several disks are not supported');
  const countOnDisk = view.getBigUint64(at + 24, true);
  const count = view.getBigUint64(at + 32, true);
  if (countOnDisk !== count) throw fail('archives on several disks are not supported');
  return {
    count: safeNumber(count, 'entry count', fail),
    size: safeNumber(view.getBigUint64(at + 40, true), 'central directory size', fail),
    offset: safeNumber(view.getBigUint64(at + 48, true), 'central directory offset', fail),
  };
}

/** The ZIP64 extended-information field: the 8-byte values that replace 0xFFFFFFFF, in order. */
function readZip64Extra(
  extra: Uint8Array,
  fail: (message: string) => PytorchCheckpointError,
): { next: (what: string) => number } {
  const view = new DataView(extra.buffer, extra.byteOffset, extra.byteLength);
  let field: { start: number; end: number } | undefined;
  for (let at = 0; at < extra.byteLength;) {
    if (at + 4 > extra.byteLength) throw fail('extra field is truncated');
    const id = view.getUint16(at, true);
    const length = view.getUint16(at + 2, true);
    if (at + 4 + length > extra.byteLength) throw fail('extra field is truncated');
    if (id === ZIP64_EXTRA_ID) field = { start: at + 4, end: at + 4 + length };
    at += 4 + length;
  }
  let position = field?.start ?? 0;
  return {
    next(what: string): number {
      if (field === undefined || position + 8 > field.end)
        throw fail(`${what} is 0xFFFFFFFF but the ZIP64 extra field does not give it`);
      const value = view.getBigUint64(position, true);
      position += 8;
      return safeNumber(value, what, fail);
    },
  };
}

function readLocalEntry(
  bytes: Uint8Array,
  view: DataView,
  entry: { name: string; localOffset: number; size: number; flags: number; directory: Directory },
  fail: (message: string) => PytorchCheckpointError,
): Uint8Array {
  const at = entry.localOffset;
  if (at + 30 > entry.directory.offset)
    throw fail(
      `local header offset ${at} is out of range (the central directory starts at ${entry.directory.offset})`,
    );
  if (view.getUint32(at, true) !== LOCAL_HEADER)
    throw fail(`no local header signature at byte ${at}`);
  const method = view.getUint16(at + 8, true);
  const compressedSize = view.getUint32(at + 18, true);
  const size = view.getUint32(at + 22, true);
  const nameLength = view.getUint16(at + 26, true);
  const extraLength = view.getUint16(at + 28, true);
  const nameEnd = at + 30 + nameLength;
  const start = nameEnd + extraLength;
  if (start > entry.directory.offset)
    throw fail(`local header at byte ${at} runs into the central directory`);
  const localName = new TextDecoder('utf-8').decode(bytes.subarray(at + 30, nameEnd));
  if (localName !== entry.name) throw fail(`local header names it '${localName}'`);
  if (method !== STORED) throw fail(`local header gives method ${method}, the central directory 0`);
  const sizesDeferred =
    (entry.flags & FLAG_DATA_DESCRIPTOR) !== 0 && size === 0 && compressedSize === 0;
  const sizesInZip64 = size === U32_MAX && compressedSize === U32_MAX;
  if (!sizesDeferred && !sizesInZip64 && (size !== entry.size || compressedSize !== entry.size))
    throw fail(`local header gives size ${size}, the central directory ${entry.size}`);
  const end = start + entry.size;
  if (end > entry.directory.offset)
    throw fail(
      `data [${start}, ${end}) runs past the start of the central directory (byte ${entry.directory.offset})`,
    );
  return bytes.subarray(start, end);
}

function decodeName(
  raw: Uint8Array,
  index: number,
  fail: (message: string) => PytorchCheckpointError,
): string {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(raw);
  } catch {
    throw fail(`central directory entry ${index} has a name that is not UTF-8`);
  }
}

function safeNumber(
  value: bigint,
  what: string,
  fail: (message: string) => PytorchCheckpointError,
): number {
  if (value > BigInt(Number.MAX_SAFE_INTEGER)) throw fail(`${what} ${value} is out of range`);
  return Number(value);
}

let crcTable: Uint32Array | undefined;

function crc32(data: Uint8Array): number {
  crcTable ??= makeCrcTable();
  let crc = 0xffffffff;
  for (let i = 0; i < data.length; i++) crc = crcTable[(crc ^ data[i]!) & 0xff]! ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}

function makeCrcTable(): Uint32Array {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
}
