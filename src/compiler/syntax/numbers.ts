import { NUMBER_FORM } from '../../../grammar/tokens.js';

const RADIX_PREFIXES: Record<string, { radix: number; digits: RegExp }> = {
  x: { radix: 16, digits: /^[0-9a-f]+$/i },
  o: { radix: 8, digits: /^[0-7]+$/ },
  b: { radix: 2, digits: /^[01]+$/ },
};

const DECIMAL =
  'numbers are decimal: digits, an optional fraction and exponent, e.g. 12, -0.5, 1e-3';

/** What to write instead of a run that starts like a number but is not one (`0x10`, `1_000`). */
export function describeMalformedNumber(text: string): string {
  const sign = text.startsWith('-') ? '-' : '';
  const body = text.slice(sign.length);
  const prefix = RADIX_PREFIXES[body.slice(1, 2).toLowerCase()];
  if (body.startsWith('0') && prefix) {
    const value = parseInt(body.slice(2), prefix.radix);
    if (prefix.digits.test(body.slice(2)) && Number.isSafeInteger(value)) {
      return `write decimal digits, e.g. ${sign}${value}`;
    }
    return DECIMAL;
  }
  if (body.includes('_') && NUMBER_FORM.test(text.replaceAll('_', ''))) {
    return `write it without separators: ${text.replaceAll('_', '')}`;
  }
  if (/[eE][+-]?$/.test(body)) return 'an exponent needs digits, e.g. 1e3 or 1e-3';
  if (/^\d+\.$/.test(body)) return `write ${text.slice(0, -1)} or ${text}0`;
  if (/^\.\d+$/.test(body)) return `write ${sign}0${body}`;
  const number = /^\d+(?:\.\d+)?(?:[eE][+-]?\d+)?/.exec(body)?.[0];
  if (number && /^[A-Za-z_]/.test(body.slice(number.length))) {
    return `separate the number from the word after it: ${sign}${number} ${body.slice(number.length)}`;
  }
  return DECIMAL;
}
