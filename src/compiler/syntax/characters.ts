import type { DiagnosticBag } from '../diagnostics.js';
import { BYTE_ORDER_MARK } from '../source.js';

/**
 * Characters a text file should not hold: control characters but tab, line feed and carriage
 * return; invisible format characters (bidirectional overrides, zero-width spaces, a byte-order
 * mark past the start); lone surrogates; and U+FFFD, which decoding puts where bytes were not
 * UTF-8. Other non-ASCII characters are fine in comments and an error anywhere else.
 */
const HOSTILE = /[^\P{Cc}\t\n\r]|[\p{Cf}\p{Cs}\uFFFD\uFFFE\uFFFF]/gu;

const BIDI_CONTROLS = /[\u061C\u200E\u200F\u202A-\u202E\u2066-\u2069]/;

function codePoint(char: string): string {
  return `U+${char.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}`;
}

function describe(char: string): { what: string; help: string } {
  const code = char.charCodeAt(0);
  if (code === 0) {
    return {
      what: 'NUL character',
      help: 'the file looks binary or UTF-16; a spec is UTF-8 text',
    };
  }
  if (char === '\uFFFD') {
    return {
      what: 'replacement character',
      help: 'the file is not valid UTF-8: bytes that do not decode are read as U+FFFD',
    };
  }
  if (code >= 0xd800 && code <= 0xdfff) {
    return { what: 'lone surrogate', help: 'the text is not valid Unicode; save it as UTF-8' };
  }
  if (char === BYTE_ORDER_MARK) {
    return { what: 'byte-order mark', help: 'a byte-order mark may only start the file' };
  }
  if (BIDI_CONTROLS.test(char)) {
    return {
      what: 'bidirectional text control',
      help: 'it makes text display in another order than it is read; delete it',
    };
  }
  return {
    what:
      code < 0x20 || (code >= 0x7f && code <= 0x9f) ? 'control character' : 'invisible character',
    help: 'delete it; of the control characters only tab, carriage return and newline may appear',
  };
}

/** UTF-8 bytes of text[from, to); a lone surrogate counts as the 3 bytes of U+FFFD. */
function utf8Length(text: string, from: number, to: number): number {
  let bytes = 0;
  for (let i = from; i < to; i++) {
    const code = text.charCodeAt(i);
    if (code < 0x80) bytes += 1;
    else if (code < 0x800) bytes += 2;
    else if (code >= 0xd800 && code <= 0xdbff && i + 1 < to && isLowSurrogate(text, i + 1)) {
      bytes += 4;
      i++;
    } else bytes += 3;
  }
  return bytes;
}

function isLowSurrogate(text: string, i: number): boolean {
  const code = text.charCodeAt(i);
  return code >= 0xdc00 && code <= 0xdfff;
}

/**
 * Reports each kind of hostile character once, at its first occurrence with its byte offset and
 * how many more there are, and returns the text for the lexer: hostile characters and a leading
 * byte-order mark become spaces, so every offset stays that of the file.
 */
export function screenCharacters(text: string, bag: DiagnosticBag): string {
  const firstSeen = new Map<string, { offset: number; byteOffset: number; count: number }>();
  const blanked: { offset: number; length: number }[] = [];
  let scanned = 0;
  let bytes = 0;
  for (const match of text.matchAll(HOSTILE)) {
    const offset = match.index;
    blanked.push({ offset, length: match[0].length });
    if (offset === 0 && match[0] === BYTE_ORDER_MARK) continue;
    bytes += utf8Length(text, scanned, offset);
    scanned = offset;
    const seen = firstSeen.get(match[0]);
    if (seen) seen.count++;
    else firstSeen.set(match[0], { offset, byteOffset: bytes, count: 1 });
  }
  for (const [char, { offset, byteOffset, count }] of firstSeen) {
    const { what, help } = describe(char);
    const more = count > 1 ? `, and ${count - 1} more in the file` : '';
    bag.report(
      'E0006',
      { start: offset, end: offset + char.length },
      `${what} (${codePoint(char)}) at byte offset ${byteOffset}${more}`,
      help,
    );
  }
  if (blanked.length === 0) return text;
  const parts: string[] = [];
  let from = 0;
  for (const { offset, length } of blanked) {
    parts.push(text.slice(from, offset), ' '.repeat(length));
    from = offset + length;
  }
  parts.push(text.slice(from));
  return parts.join('');
}
