import type { DiagnosticBag, DiagnosticCode } from '../../diagnostics.js';
import type { Span } from '../../source.js';
import type { JsonObject, JsonValue } from './json.js';

/** `the string "12"`, `12.5`, `null`, `an array`: a JSON value as a message quotes it. */
export function describeJson(value: JsonValue): string {
  if (typeof value === 'string') return `the string ${JSON.stringify(clip(value))}`;
  if (value === null || typeof value === 'number' || typeof value === 'boolean') {
    return String(value);
  }
  return Array.isArray(value) ? 'an array' : 'an object';
}

const clip = (text: string) => (text.length <= 64 ? text : `${text.slice(0, 64)}…`);

/** `"a", "b" and "c"`. */
export function listStrings(items: readonly string[]): string {
  const quoted = items.map((item) => JSON.stringify(item));
  return quoted.length <= 1
    ? quoted.join('')
    : `${quoted.slice(0, -1).join(', ')} and ${quoted[quoted.length - 1]}`;
}

interface IntegerBounds {
  readonly min: number;
  readonly max: number;
}

/**
 * Reads typed keys of one config.json. Each problem is one diagnostic at the spec's `from "DIR"`
 * naming the file and the key; `failed` tells whether any was reported.
 */
export class ConfigReader {
  failed = false;

  constructor(
    readonly file: string,
    readonly json: JsonObject,
    private readonly bag: DiagnosticBag,
    readonly span: Span,
  ) {}

  /** Reports `FILE: KEY: text` (or `FILE: text` without a key). */
  report(key: string | undefined, text: string, code: DiagnosticCode = 'E0116', help?: string) {
    const where = key === undefined ? this.file : `${this.file}: ${key}`;
    this.bag.report(code, this.span, `${where}: ${text}`, help);
    if (code.startsWith('E')) this.failed = true;
  }

  has(key: string): boolean {
    const value = this.json.get(key);
    return value !== undefined && value !== null;
  }

  /** The key's value, or undefined after reporting that it is missing. */
  private required(key: string, what: string): JsonValue | undefined {
    const value = this.json.get(key);
    if (value === undefined) this.report(key, `missing; it must be ${what}`);
    return value;
  }

  integer(key: string, { min, max }: IntegerBounds): number | undefined {
    const what =
      min === 0
        ? `a non-negative integer`
        : min === 1
          ? 'a positive integer'
          : `an integer ≥ ${min}`;
    const value = this.required(key, what);
    if (value === undefined) return undefined;
    if (typeof value !== 'number' || !Number.isInteger(value) || value < min) {
      this.report(key, `must be ${what}, got ${describeJson(value)}`);
      return undefined;
    }
    if (value > max) {
      this.report(key, `must be at most ${max}, got ${value}`);
      return undefined;
    }
    return value;
  }

  /** An integer where null or a missing key means `fallback`. */
  integerOr(key: string, bounds: IntegerBounds, fallback: number | undefined): number | undefined {
    return this.has(key) ? this.integer(key, bounds) : fallback;
  }

  /** A number greater than 0 that stays positive and finite in f32, as an epsilon must. */
  positive(key: string): number | undefined {
    const value = this.required(key, 'a number greater than 0');
    if (value === undefined) return undefined;
    if (typeof value !== 'number' || !(value > 0)) {
      this.report(key, `must be a number greater than 0, got ${describeJson(value)}`);
      return undefined;
    }
    const inF32 = Math.fround(value);
    if (inF32 === 0 || !Number.isFinite(inF32)) {
      this.report(
        key,
        `${value} is ${inF32 === 0 ? '0' : 'infinite'} in f32, the precision the model runs in`,
      );
      return undefined;
    }
    return value;
  }

  string(key: string): string | undefined {
    const value = this.required(key, 'a string');
    if (value === undefined) return undefined;
    if (typeof value !== 'string') {
      this.report(key, `must be a string, got ${describeJson(value)}`);
      return undefined;
    }
    return value;
  }

  /** A string from a fixed list; another string is reported as `code`. */
  choice<T extends string>(
    key: string,
    choices: readonly T[],
    code: DiagnosticCode = 'E0116',
  ): T | undefined {
    const value = this.string(key);
    if (value === undefined) return undefined;
    if ((choices as readonly string[]).includes(value)) return value as T;
    this.report(
      key,
      `${JSON.stringify(clip(value))} is not supported; the supported values are ${listStrings(choices)}`,
      code,
    );
    return undefined;
  }

  /** A boolean where a missing key or null means `fallback`. */
  flag(key: string, fallback: boolean): boolean | undefined {
    if (!this.has(key)) return fallback;
    const value = this.json.get(key)!;
    if (typeof value !== 'boolean') {
      this.report(key, `must be true or false, got ${describeJson(value)}`);
      return undefined;
    }
    return value;
  }
}
