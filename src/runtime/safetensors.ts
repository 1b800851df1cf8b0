/**
 * Strict reader and writer for the safetensors format: an 8-byte little-endian u64 header length
 * N, then N bytes of UTF-8 JSON describing each tensor, then the raw little-endian tensor bytes
 * (`data_offsets` are relative to the start of that data buffer).
 *
 * Runs in browsers too: no Node APIs, only typed arrays, DataView and TextDecoder/TextEncoder.
 */

import { AdaptError, ArgumentError } from './errors.js';
import { describeValue, isRecord, readingCallerValues } from './guards.js';

export type SafetensorsDType =
  'F32' | 'F16' | 'BF16' | 'I8' | 'I16' | 'I32' | 'I64' | 'U8' | 'U16' | 'U32' | 'U64';

export interface Tensor {
  /** The dtype as stored in the file. */
  readonly dtype: SafetensorsDType;
  readonly shape: readonly number[];
  /** F32/F16/BF16 -> Float32Array, U8 -> Uint8Array, the other integer dtypes -> Int32Array. */
  readonly data: Float32Array | Int32Array | Uint8Array;
}

export type TensorMap = Map<string, Tensor>;

export interface SafetensorsFile {
  readonly tensors: TensorMap;
  /** The `__metadata__` object, or undefined when the header has none. */
  readonly metadata: Record<string, string> | undefined;
}

/** A tensor to write: a Float32Array is written as F32, an Int32Array as I32. */
export interface SafetensorsEntry {
  shape: readonly number[];
  data: Float32Array | Int32Array;
}

/** A safetensors file that is not one; names the file, and the tensor where there is one. */
export class SafetensorsError extends AdaptError {
  override name = 'SafetensorsError';
  readonly file: string;
  readonly tensor?: string;

  constructor(file: string, message: string, tensor?: string) {
    super(`${file}: ${tensor === undefined ? '' : `tensor '${tensor}': `}${message}`);
    this.file = file;
    if (tensor !== undefined) this.tensor = tensor;
  }
}

const DTYPE_SIZES: Record<SafetensorsDType, number> = {
  F32: 4,
  F16: 2,
  BF16: 2,
  I8: 1,
  I16: 2,
  I32: 4,
  I64: 8,
  U8: 1,
  U16: 2,
  U32: 4,
  U64: 8,
};
const SUPPORTED_DTYPES = Object.keys(DTYPE_SIZES).join(', ');

/** The same limit as the reference implementation. */
const MAX_HEADER_BYTES = 100_000_000;
const METADATA_KEY = '__metadata__';
const ENTRY_FIELDS: readonly string[] = ['dtype', 'shape', 'data_offsets'];
const DEFAULT_FILE_NAME = '<memory>';

const HOST_IS_LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

interface TensorInfo {
  name: string;
  dtype: SafetensorsDType;
  shape: number[];
  begin: number;
  end: number;
}

// ---------------------------------------------------------------------------------------------
// Reader

export function loadSafetensors(bytes: Uint8Array, fileName = DEFAULT_FILE_NAME): TensorMap {
  return readSafetensors(bytes, fileName).tensors;
}

/** The bytes of a file: a Uint8Array (Node's Buffer is one) or an ArrayBuffer. */
function fileBytes(input: unknown, fileName: unknown): Uint8Array {
  if (typeof fileName !== 'string') {
    throw new ArgumentError(`the file name must be a string, got ${describeValue(fileName)}`);
  }
  if (input instanceof ArrayBuffer) {
    if (isDetached(input))
      throw new ArgumentError(`${fileName}: the ArrayBuffer was detached (transferred)`);
    return new Uint8Array(input);
  }
  if (!(input instanceof Uint8Array)) {
    throw new ArgumentError(
      `${fileName}: a safetensors file must be given as a Uint8Array or an ArrayBuffer, got ${describeValue(input)}`,
    );
  }
  // A plain view: subclasses such as Node's Buffer override slice() to return a view, not a copy.
  try {
    return new Uint8Array(input.buffer, input.byteOffset, input.byteLength);
  } catch {
    throw new ArgumentError(`${fileName}: the bytes' ArrayBuffer was detached (transferred)`);
  }
}

/** Like loadSafetensors, but also returns the `__metadata__` strings. */
export function readSafetensors(input: Uint8Array, fileName = DEFAULT_FILE_NAME): SafetensorsFile {
  const bytes = fileBytes(input, fileName);
  return readingCallerValues(
    () => readBytes(bytes, fileName),
    (why) => new SafetensorsError(fileName, why),
  );
}

function readBytes(bytes: Uint8Array, fileName: string): SafetensorsFile {
  const headerLength = readHeaderLength(bytes, fileName);
  const header = parseHeader(bytes.subarray(8, 8 + headerLength), fileName);
  const data = bytes.subarray(8 + headerLength);

  const metadata = Object.hasOwn(header, METADATA_KEY)
    ? parseMetadata(header[METADATA_KEY], fileName)
    : undefined;
  const infos = Object.entries(header)
    .filter(([name]) => name !== METADATA_KEY)
    .map(([name, entry]) => parseEntry(name, entry, data.byteLength, fileName));
  checkLayout(infos, data.byteLength, fileName);

  const tensors: TensorMap = new Map();
  for (const info of infos) tensors.set(info.name, decodeTensor(info, data, fileName));
  return { tensors, metadata };
}

function readHeaderLength(bytes: Uint8Array, file: string): number {
  if (bytes.byteLength < 8) {
    throw new SafetensorsError(
      file,
      `file is ${bytes.byteLength} bytes, too short for the 8-byte header length`,
    );
  }
  const length = new DataView(bytes.buffer, bytes.byteOffset, 8).getBigUint64(0, true);
  if (length > BigInt(MAX_HEADER_BYTES)) {
    throw new SafetensorsError(
      file,
      `header: length ${length} is absurd (limit ${MAX_HEADER_BYTES} bytes); not a safetensors file?`,
    );
  }
  const available = bytes.byteLength - 8;
  if (Number(length) > available) {
    throw new SafetensorsError(
      file,
      `header: length ${length} is beyond the end of the file (only ${available} bytes after the 8-byte length)`,
    );
  }
  return Number(length);
}

function parseHeader(headerBytes: Uint8Array, file: string): Record<string, unknown> {
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(headerBytes);
  } catch {
    throw new SafetensorsError(file, 'header: not valid UTF-8');
  }
  if (text.startsWith('\uFEFF'))
    throw new SafetensorsError(file, 'header: starts with a byte-order mark; it must start with {');
  let header: unknown;
  try {
    header = JSON.parse(text);
  } catch (e) {
    const padding = /\0+$/.exec(text);
    if (padding) {
      throw new SafetensorsError(
        file,
        `header: ends in ${padding[0].length} NUL bytes; the format pads the header with spaces`,
      );
    }
    throw new SafetensorsError(file, `header: not valid JSON: ${(e as Error).message}`);
  }
  if (!isObject(header)) {
    throw new SafetensorsError(file, `header: must be a JSON object, got ${describe(header)}`);
  }
  const duplicate = findDuplicateKey(text);
  if (duplicate?.path.length === 0 && duplicate.key === METADATA_KEY) {
    throw new SafetensorsError(file, `header: duplicate '${METADATA_KEY}'`);
  }
  if (duplicate?.path.length === 0) {
    throw new SafetensorsError(file, 'appears more than once in the header', duplicate.key);
  }
  if (duplicate !== undefined) {
    const [owner, ...rest] = duplicate.path;
    const where = [...rest, duplicate.key].map((k) => `'${k}'`).join(' in ');
    const message = `key ${where} appears more than once`;
    if (owner === METADATA_KEY)
      throw new SafetensorsError(file, `header: ${METADATA_KEY}: ${message}`);
    throw new SafetensorsError(file, message, owner);
  }
  return header;
}

/**
 * JSON.parse silently keeps the last of duplicate keys, so scan the (already validated) JSON
 * text for a key repeated in any one object; returns it with the keys of the objects around it.
 */
function findDuplicateKey(text: string): { key: string; path: string[] } | undefined {
  // One entry per open object or array: the keys seen so far (null for an array) and the key
  // under which it was opened.
  const stack: { keys: Set<string> | null; under: string | undefined }[] = [];
  let pendingKey: string | undefined;
  let i = 0;
  while (i < text.length) {
    const c = text[i];
    if (c === '"') {
      const end = endOfJsonString(text, i);
      const keys = stack[stack.length - 1]?.keys;
      if (keys && nextNonSpace(text, end) === ':') {
        const key = JSON.parse(text.slice(i, end)) as string;
        if (keys.has(key)) {
          const path = stack
            .slice(1)
            .flatMap((entry) => (entry.under === undefined ? [] : [entry.under]));
          return { key, path };
        }
        keys.add(key);
        pendingKey = key;
      }
      i = end;
      continue;
    }
    if (c === '{' || c === '[') {
      stack.push({ keys: c === '{' ? new Set() : null, under: pendingKey });
      pendingKey = undefined;
    } else if (c === '}' || c === ']') {
      stack.pop();
    }
    i++;
  }
  return undefined;
}

/** Index just past the closing quote of the JSON string literal starting at `start`. */
function endOfJsonString(text: string, start: number): number {
  let i = start + 1;
  while (text[i] !== '"') i += text[i] === '\\' ? 2 : 1;
  return i + 1;
}

function nextNonSpace(text: string, start: number): string | undefined {
  let i = start;
  while (i < text.length && ' \t\r\n'.includes(text[i] ?? '')) i++;
  return text[i];
}

function parseMetadata(value: unknown, file: string): Record<string, string> {
  if (!isObject(value)) {
    throw new SafetensorsError(
      file,
      `${METADATA_KEY} must be an object of strings, got ${describe(value)}`,
    );
  }
  for (const [key, item] of Object.entries(value)) {
    if (typeof item !== 'string') {
      throw new SafetensorsError(
        file,
        `${METADATA_KEY} value for '${key}' must be a string, got ${describe(item)}`,
      );
    }
  }
  return value as Record<string, string>;
}

function parseEntry(name: string, entry: unknown, bufferSize: number, file: string): TensorInfo {
  const error = (message: string) => new SafetensorsError(file, message, name);
  if (!isObject(entry)) throw error(`entry must be an object, got ${describe(entry)}`);

  for (const field of ENTRY_FIELDS) {
    if (!Object.hasOwn(entry, field)) throw error(`missing ${field}`);
  }
  const unknown = Object.keys(entry).find((key) => !ENTRY_FIELDS.includes(key));
  if (unknown !== undefined)
    throw error(`unknown field '${unknown}' (an entry has only ${ENTRY_FIELDS.join(', ')})`);
  const { dtype, shape, data_offsets: offsets } = entry;

  if (typeof dtype !== 'string') throw error(`dtype must be a string, got ${describe(dtype)}`);
  if (!Object.hasOwn(DTYPE_SIZES, dtype)) {
    throw error(`unsupported dtype '${dtype}' (supported: ${SUPPORTED_DTYPES})`);
  }

  if (!Array.isArray(shape)) throw error(`shape must be an array, got ${describe(shape)}`);
  shape.forEach((dim: unknown, i) => {
    if (!isNonNegativeInteger(dim)) {
      const unsafe = isUnsafeInteger(dim)
        ? ' (past 2^53 - 1, where JSON numbers stop being exact)'
        : '';
      throw error(
        `shape[${i}] must be a non-negative integer, got ${JSON.stringify(dim)}${unsafe}`,
      );
    }
  });

  if (
    !Array.isArray(offsets) ||
    offsets.length !== 2 ||
    !offsets.every((x: unknown) => isNonNegativeInteger(x))
  ) {
    const unsafe = Array.isArray(offsets) && offsets.some((x) => isUnsafeInteger(x));
    throw error(
      `data_offsets must be two non-negative integers [begin, end], got ${JSON.stringify(offsets)}${unsafe ? ' (past 2^53 - 1, where JSON numbers stop being exact)' : ''}`,
    );
  }
  const [begin, end] = offsets as [number, number];
  if (begin > end) throw error(`data_offsets [${begin}, ${end}] have begin > end`);
  if (end > bufferSize) {
    throw error(
      `data_offsets [${begin}, ${end}] are out of range of the data buffer (${bufferSize} bytes)`,
    );
  }

  const info: TensorInfo = { name, dtype: dtype as SafetensorsDType, shape, begin, end };
  const expected = elementCount(info.shape) * DTYPE_SIZES[info.dtype];
  if (end - begin !== expected) {
    throw error(
      `data_offsets cover ${end - begin} bytes but shape ${formatShape(info.shape)} of ${dtype} needs ${expected} bytes`,
    );
  }
  return info;
}

/**
 * The tensors must cover the data buffer exactly, as the format requires: no two share a byte,
 * no byte lies between them, none after the last. Empty tensors cover nothing and may sit anywhere.
 */
function checkLayout(infos: readonly TensorInfo[], bufferSize: number, file: string): void {
  const sorted = infos.filter((t) => t.end > t.begin).sort((a, b) => a.begin - b.begin);
  let covered = 0;
  let previous: TensorInfo | undefined;
  for (const info of sorted) {
    if (previous !== undefined && info.begin < covered) {
      throw new SafetensorsError(
        file,
        `overlaps tensor '${previous.name}' (bytes [${info.begin}, ${info.end}) and [${previous.begin}, ${previous.end}))`,
        info.name,
      );
    }
    if (info.begin > covered) {
      const after = previous === undefined ? 'the data starts' : `tensor '${previous.name}' ends`;
      throw new SafetensorsError(
        file,
        `starts at byte ${info.begin}, but ${after} at ${covered}: bytes [${covered}, ${info.begin}) belong to no tensor`,
        info.name,
      );
    }
    covered = info.end;
    previous = info;
  }
  if (covered < bufferSize) {
    const last =
      previous === undefined
        ? 'no tensor'
        : `the last tensor ('${previous.name}') ends at ${covered}`;
    throw new SafetensorsError(
      file,
      `${bufferSize - covered} bytes after the tensors: the data section is ${bufferSize} bytes, but ${last}`,
    );
  }
}

function decodeTensor(info: TensorInfo, buffer: Uint8Array, file: string): Tensor {
  const bytes = buffer.subarray(info.begin, info.end);
  return { dtype: info.dtype, shape: info.shape, data: decodeData(info, bytes, file) };
}

function decodeData(
  info: TensorInfo,
  bytes: Uint8Array,
  file: string,
): Float32Array | Int32Array | Uint8Array {
  switch (info.dtype) {
    case 'F32':
      return new Float32Array(copyLittleEndianWords(bytes));
    case 'I32':
      return new Int32Array(copyLittleEndianWords(bytes));
    case 'F16':
      return decodeF16(bytes);
    case 'BF16':
      return decodeBF16(bytes);
    case 'I64':
      return decodeI64(bytes, info.name, file);
    case 'U64':
      return decodeU64(bytes, info.name, file);
    case 'U8':
      return bytes.slice();
    case 'I8':
      return Int32Array.from(new Int8Array(bytes.slice().buffer));
    case 'I16':
    case 'U16':
      return decode16(bytes, info.dtype === 'I16');
    case 'U32':
      return decodeU32(bytes, info.name, file);
  }
}

/**
 * Copies 4-byte little-endian words into a fresh (hence aligned) buffer in host byte order, so
 * that unaligned offsets and views into larger buffers need no special care.
 */
function copyLittleEndianWords(bytes: Uint8Array): ArrayBuffer {
  const copy = bytes.slice();
  if (!HOST_IS_LITTLE_ENDIAN) swapWords(copy);
  return copy.buffer;
}

function swapWords(bytes: Uint8Array): void {
  for (let i = 0; i + 3 < bytes.length; i += 4) {
    bytes.subarray(i, i + 4).reverse();
  }
}

function dataView(bytes: Uint8Array): DataView {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

function decodeF16(bytes: Uint8Array): Float32Array {
  const view = dataView(bytes);
  const out = new Float32Array(bytes.byteLength / 2);
  for (let i = 0; i < out.length; i++) out[i] = halfToFloat(view.getUint16(2 * i, true));
  return out;
}

/** Converts IEEE 754 binary16 bits to a number; every half value is exact in float32. */
export function halfToFloat(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exponent = (bits >> 10) & 0x1f;
  const fraction = bits & 0x3ff;
  if (exponent === 0) return sign * fraction * 2 ** -24;
  if (exponent === 0x1f) return fraction === 0 ? sign * Infinity : NaN;
  return sign * (0x400 + fraction) * 2 ** (exponent - 25);
}

/** bfloat16 is the top half of a float32, so shifting the bits up is an exact conversion. */
function decodeBF16(bytes: Uint8Array): Float32Array {
  const view = dataView(bytes);
  const words = new Uint32Array(bytes.byteLength / 2);
  for (let i = 0; i < words.length; i++) words[i] = view.getUint16(2 * i, true) << 16;
  return new Float32Array(words.buffer);
}

function decodeI64(bytes: Uint8Array, name: string, file: string): Int32Array {
  const view = dataView(bytes);
  const out = new Int32Array(bytes.byteLength / 8);
  for (let i = 0; i < out.length; i++) {
    const low = view.getUint32(8 * i, true) | 0;
    const high = view.getInt32(8 * i + 4, true);
    // The value fits in int32 exactly when the high word is the sign extension of the low word.
    if (high !== low >> 31) {
      const value = view.getBigInt64(8 * i, true);
      throw new SafetensorsError(
        file,
        `I64 value ${value} at index ${i} does not fit in int32`,
        name,
      );
    }
    out[i] = low;
  }
  return out;
}

function decode16(bytes: Uint8Array, signed: boolean): Int32Array {
  const view = dataView(bytes);
  const out = new Int32Array(bytes.byteLength / 2);
  for (let i = 0; i < out.length; i++)
    out[i] = signed ? view.getInt16(2 * i, true) : view.getUint16(2 * i, true);
  return out;
}

function tooLarge(
  dtype: string,
  value: number | bigint,
  index: number,
  name: string,
  file: string,
) {
  return new SafetensorsError(
    file,
    `${dtype} value ${value} at index ${index} does not fit in int32`,
    name,
  );
}

function decodeU32(bytes: Uint8Array, name: string, file: string): Int32Array {
  const view = dataView(bytes);
  const out = new Int32Array(bytes.byteLength / 4);
  for (let i = 0; i < out.length; i++) {
    const value = view.getUint32(4 * i, true);
    if (value > 0x7fffffff) throw tooLarge('U32', value, i, name, file);
    out[i] = value;
  }
  return out;
}

function decodeU64(bytes: Uint8Array, name: string, file: string): Int32Array {
  const view = dataView(bytes);
  const out = new Int32Array(bytes.byteLength / 8);
  for (let i = 0; i < out.length; i++) {
    const low = view.getUint32(8 * i, true);
    if (view.getUint32(8 * i + 4, true) !== 0 || low > 0x7fffffff)
      throw tooLarge('U64', view.getBigUint64(8 * i, true), i, name, file);
    out[i] = low;
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Writer

/**
 * Serializes tensors (sorted by name, packed back to back as the reference implementation
 * requires) with an optional `__metadata__` object of strings.
 */
export function saveSafetensors(
  tensors: Iterable<[string, SafetensorsEntry]> | Record<string, SafetensorsEntry>,
  metadata?: Record<string, string>,
): Uint8Array {
  return readingCallerValues(
    () => serialize(tensors, metadata),
    (why) => new SafetensorsError(DEFAULT_FILE_NAME, why),
  );
}

function serialize(
  tensors: Iterable<[string, SafetensorsEntry]> | Record<string, SafetensorsEntry>,
  metadata: Record<string, string> | undefined,
): Uint8Array {
  if (!isRecord(tensors) && !Array.isArray(tensors))
    throw new ArgumentError(
      `the tensors to save must be a Map, an array of [name, tensor] or an object, got ${describeValue(tensors)}`,
    );
  if (metadata !== undefined && !isRecord(metadata))
    throw new ArgumentError(
      `${METADATA_KEY} to save must be an object of strings, got ${describeValue(metadata)}`,
    );
  const entries = collectEntries(tensors);
  // A null-prototype object so that a tensor named '__proto__' is an ordinary key.
  const header = Object.create(null) as Record<string, unknown>;
  if (metadata !== undefined) header[METADATA_KEY] = checkMetadataForSave(metadata);

  let offset = 0;
  for (const [name, entry] of entries) {
    checkEntryForSave(name, entry);
    const end = offset + entry.data.byteLength;
    const dtype = entry.data instanceof Float32Array ? 'F32' : 'I32';
    header[name] = { dtype, shape: [...entry.shape], data_offsets: [offset, end] };
    offset = end;
  }

  const headerBytes = encodePaddedHeader(header);
  const dataStart = 8 + headerBytes.byteLength;
  const out = new Uint8Array(dataStart + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(headerBytes.byteLength), true);
  out.set(headerBytes, 8);
  let position = dataStart;
  for (const [, entry] of entries) {
    out.set(littleEndianBytes(entry.data), position);
    position += entry.data.byteLength;
  }
  return out;
}

function collectEntries(
  tensors: Iterable<[string, SafetensorsEntry]> | Record<string, SafetensorsEntry>,
): [string, SafetensorsEntry][] {
  const entries = isIterable(tensors) ? [...tensors] : Object.entries(tensors);
  const seen = new Set<string>();
  for (const [name] of entries) {
    if (name === METADATA_KEY) {
      throw new SafetensorsError(DEFAULT_FILE_NAME, `'${METADATA_KEY}' is not a valid tensor name`);
    }
    if (seen.has(name)) {
      throw new SafetensorsError(DEFAULT_FILE_NAME, 'duplicate tensor name', name);
    }
    seen.add(name);
  }
  return entries.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}

function isIterable<T>(value: object): value is Iterable<T> {
  return typeof (value as Partial<Iterable<T>>)[Symbol.iterator] === 'function';
}

function checkMetadataForSave(metadata: Record<string, string>): Record<string, string> {
  for (const [key, value] of Object.entries(metadata)) {
    if (typeof value !== 'string') {
      throw new SafetensorsError(
        DEFAULT_FILE_NAME,
        `${METADATA_KEY} value for '${key}' must be a string, got ${describe(value)}`,
      );
    }
  }
  return { ...metadata };
}

function checkEntryForSave(name: string, entry: SafetensorsEntry): void {
  const error = (message: string) => new SafetensorsError(DEFAULT_FILE_NAME, message, name);
  if (typeof name !== 'string')
    throw error(`tensor names must be strings, got ${describeValue(name)}`);
  if (!isRecord(entry))
    throw error(`must be an object { shape, data }, got ${describeValue(entry)}`);
  if (!Array.isArray(entry.shape))
    throw error(`shape must be an array, got ${describeValue(entry.shape)}`);
  if (!(entry.data instanceof Float32Array) && !(entry.data instanceof Int32Array)) {
    throw error('data must be a Float32Array or an Int32Array');
  }
  entry.shape.forEach((dim, i) => {
    if (!isNonNegativeInteger(dim)) {
      throw error(`shape[${i}] must be a non-negative integer, got ${JSON.stringify(dim)}`);
    }
  });
  const count = elementCount(entry.shape);
  if (count !== entry.data.length) {
    throw error(
      `shape ${formatShape(entry.shape)} has ${count} elements but data has ${entry.data.length}`,
    );
  }
}

/** UTF-8 JSON padded with spaces to a multiple of 8 bytes, as the reference writer does. */
function encodePaddedHeader(header: Record<string, unknown>): Uint8Array {
  const json = new TextEncoder().encode(JSON.stringify(header));
  const padded = new Uint8Array(Math.ceil(json.byteLength / 8) * 8).fill(0x20);
  padded.set(json);
  return padded;
}

function littleEndianBytes(data: Float32Array | Int32Array): Uint8Array {
  const bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  if (HOST_IS_LITTLE_ENDIAN) return bytes;
  const copy = bytes.slice();
  swapWords(copy);
  return copy;
}

// ---------------------------------------------------------------------------------------------
// Helpers

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isNonNegativeInteger(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  return typeof value;
}

function elementCount(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

function formatShape(shape: readonly number[]): string {
  return `[${shape.join(', ')}]`;
}

function isDetached(buffer: ArrayBuffer): boolean {
  try {
    new Uint8Array(buffer, 0, 0);
    return false;
  } catch {
    return true;
  }
}

function isUnsafeInteger(value: unknown): boolean {
  return typeof value === 'number' && Number.isInteger(value) && !Number.isSafeInteger(value);
}
