import { SourceFile } from '../compiler/index.js';
import { CliError } from './io.js';

/** Strict: a malformed byte throws. A leading byte-order mark is dropped (ignoreBOM false). */
const strict = new TextDecoder('utf-8', { fatal: true });

/**
 * Decodes a text file as strict UTF-8. A leading byte-order mark is accepted and dropped; the
 * first malformed sequence is one error at its line and column, with its byte and offset.
 */
export function decodeUtf8(bytes: Uint8Array, path: string): string {
  try {
    return strict.decode(bytes);
  } catch {
    const offset = firstInvalidOffset(bytes);
    const prefix = strict.decode(bytes.subarray(0, offset));
    const { line, column } = new SourceFile(path, prefix).position(prefix.length);
    const byte = bytes[offset]!.toString(16).toUpperCase().padStart(2, '0');
    throw new CliError(
      `${path}:${line}:${column}: error: invalid UTF-8 byte 0x${byte} at byte offset ${offset}`,
    );
  }
}

/** The length in bytes of the well-formed sequence at `i`, or 0 (Unicode Table 3-7). */
function sequenceLength(bytes: Uint8Array, i: number): number {
  const lead = bytes[i]!;
  if (lead < 0x80) return 1;
  const within = (at: number, low: number, high: number) => {
    const byte = bytes[i + at];
    return byte !== undefined && byte >= low && byte <= high;
  };
  const tail = (from: number, to: number) => {
    for (let at = from; at <= to; at++) if (!within(at, 0x80, 0xbf)) return false;
    return true;
  };
  if (lead >= 0xc2 && lead <= 0xdf) return tail(1, 1) ? 2 : 0;
  if (lead === 0xe0) return within(1, 0xa0, 0xbf) && tail(2, 2) ? 3 : 0;
  if (lead === 0xed) return within(1, 0x80, 0x9f) && tail(2, 2) ? 3 : 0;
  if (lead >= 0xe1 && lead <= 0xef) return tail(1, 2) ? 3 : 0;
  if (lead === 0xf0) return within(1, 0x90, 0xbf) && tail(2, 3) ? 4 : 0;
  if (lead === 0xf4) return within(1, 0x80, 0x8f) && tail(2, 3) ? 4 : 0;
  if (lead >= 0xf1 && lead <= 0xf3) return tail(1, 3) ? 4 : 0;
  return 0;
}

/** Where the first malformed sequence starts; bytes.length when there is none. */
export function firstInvalidOffset(bytes: Uint8Array): number {
  let i = 0;
  while (i < bytes.length) {
    const length = sequenceLength(bytes, i);
    if (length === 0) return i;
    i += length;
  }
  return bytes.length;
}
