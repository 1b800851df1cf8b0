/**
 * JSON as Python's `json.dump(value, f, indent=2, sort_keys=True)` writes it, which is how the
 * `adapters` library saves its configs (`loading.py: WeightsLoaderHelper.save_weights_config`):
 * two-space indents, items separated by `,` and a newline, `": "` after each key, keys sorted by
 * code point at every level, every character outside printable ASCII escaped (`ensure_ascii`),
 * floats as `repr(float)` prints them (`1.0`, `0.0001`, `1e-05`) and ints as integers (`8`).
 */

/** A Python float, so that `4.0` prints as `4.0` and not as the integer `4`. */
export class PyFloat {
  constructor(readonly value: number) {}
}

export type PyValue =
  | null
  | boolean
  /** A Python int. */
  | number
  | string
  | PyFloat
  | readonly PyValue[]
  | ReadonlyMap<string, PyValue>;

export function pythonJsonDump(value: PyValue): string {
  return dump(value, '');
}

function dump(value: PyValue, indent: string): string {
  if (value === null) return 'null';
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  if (typeof value === 'number') return pythonInt(value);
  if (typeof value === 'string') return pythonString(value);
  if (value instanceof PyFloat) return pythonFloatRepr(value.value);
  const inner = `${indent}  `;
  if (Array.isArray(value)) {
    const items = value as readonly PyValue[];
    if (items.length === 0) return '[]';
    return `[\n${items.map((item) => inner + dump(item, inner)).join(',\n')}\n${indent}]`;
  }
  const map = value as ReadonlyMap<string, PyValue>;
  if (map.size === 0) return '{}';
  const keys = [...map.keys()].sort(byCodePoint);
  const lines = keys.map((key) => `${inner}${pythonString(key)}: ${dump(map.get(key)!, inner)}`);
  return `{\n${lines.join(',\n')}\n${indent}}`;
}

/** Python compares str by code point; JavaScript's `<` by UTF-16 unit, which differs past U+FFFF. */
function byCodePoint(a: string, b: string): number {
  const x = [...a];
  const y = [...b];
  for (let i = 0; i < Math.min(x.length, y.length); i++) {
    const d = x[i]!.codePointAt(0)! - y[i]!.codePointAt(0)!;
    if (d !== 0) return d;
  }
  return x.length - y.length;
}

function pythonInt(value: number): string {
  if (!Number.isSafeInteger(value)) throw new Error(`${value} is not an integer a config can hold`);
  return String(value);
}

const SHORT_ESCAPES: Readonly<Record<string, string>> = {
  '"': '\\"',
  '\\': '\\\\',
  '\n': '\\n',
  '\r': '\\r',
  '\t': '\\t',
  '\b': '\\b',
  '\f': '\\f',
};

/** `json.encoder.py_encode_basestring_ascii`: printable ASCII as it is, the rest escaped. */
function pythonString(text: string): string {
  let out = '"';
  for (let i = 0; i < text.length; i++) {
    const char = text[i]!;
    const code = text.charCodeAt(i);
    const short = SHORT_ESCAPES[char];
    if (short !== undefined) out += short;
    else if (code >= 0x20 && code <= 0x7e) out += char;
    else out += `\\u${code.toString(16).padStart(4, '0')}`;
  }
  return `${out}"`;
}

/**
 * `repr(float)`: the shortest digits that read back as the same double (JavaScript finds the
 * same ones), in positional notation when the decimal exponent is from -4 to 15 (with `.0` for
 * an integral value), else as `d.ddde±XX` with at least two exponent digits.
 */
export function pythonFloatRepr(value: number): string {
  if (Number.isNaN(value)) return 'NaN';
  if (!Number.isFinite(value)) return value > 0 ? 'Infinity' : '-Infinity';
  if (value === 0) return Object.is(value, -0) ? '-0.0' : '0.0';
  const sign = value < 0 ? '-' : '';
  const [mantissa, exponentText] = Math.abs(value).toExponential().split('e') as [string, string];
  const digits = mantissa.replace('.', '');
  const exponent = Number(exponentText);
  if (exponent < -4 || exponent >= 16) {
    const body = digits.length > 1 ? `${digits[0]!}.${digits.slice(1)}` : digits;
    const magnitude = String(Math.abs(exponent)).padStart(2, '0');
    return `${sign}${body}e${exponent < 0 ? '-' : '+'}${magnitude}`;
  }
  if (exponent < 0) return `${sign}0.${'0'.repeat(-exponent - 1)}${digits}`;
  const whole = digits.slice(0, exponent + 1).padEnd(exponent + 1, '0');
  const fraction = digits.slice(exponent + 1);
  return `${sign}${whole}.${fraction === '' ? '0' : fraction}`;
}
