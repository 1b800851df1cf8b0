/**
 * A strict JSON reader (RFC 8259) for files from elsewhere: what JSON.parse accepts, except that
 * a key repeated in one object is an error (JSON.parse keeps the last), and every error has the
 * line and column where it is. Objects are Maps, so no key can reach a prototype.
 */

export type JsonValue = null | boolean | number | string | readonly JsonValue[] | JsonObject;
export type JsonObject = ReadonlyMap<string, JsonValue>;

export type JsonResult =
  | { readonly ok: true; readonly value: JsonValue }
  | {
      readonly ok: false;
      readonly line: number;
      readonly column: number;
      readonly message: string;
    };

/** Deeper than any configuration nests; keeps the recursion far inside the stack. */
const MAX_DEPTH = 64;

const ESCAPES: Readonly<Record<string, string>> = {
  '"': '"',
  '\\': '\\',
  '/': '/',
  b: '\b',
  f: '\f',
  n: '\n',
  r: '\r',
  t: '\t',
};

const NUMBER = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;

class JsonSyntaxError extends Error {
  constructor(
    readonly offset: number,
    message: string,
  ) {
    super(message);
  }
}

export function parseJson(text: string): JsonResult {
  const reader = new Reader(text.startsWith('\uFEFF') ? text.slice(1) : text);
  try {
    const value = reader.document();
    return { ok: true, value };
  } catch (error) {
    if (!(error instanceof JsonSyntaxError)) throw error;
    return { ok: false, ...reader.position(error.offset), message: error.message };
  }
}

class Reader {
  private at = 0;

  constructor(private readonly text: string) {}

  document(): JsonValue {
    const value = this.value(0);
    this.skipSpace();
    if (this.at < this.text.length) this.fail(`unexpected ${this.found()} after the value`);
    return value;
  }

  position(offset: number): { line: number; column: number } {
    let line = 1;
    let lineStart = 0;
    for (let i = 0; i < offset; i++) {
      if (this.text.charCodeAt(i) === 10) {
        line++;
        lineStart = i + 1;
      }
    }
    return { line, column: offset - lineStart + 1 };
  }

  private value(depth: number): JsonValue {
    this.skipSpace();
    const char = this.text[this.at];
    if (char === '{') return this.object(depth + 1);
    if (char === '[') return this.array(depth + 1);
    if (char === '"') return this.string();
    if (char === '-' || (char !== undefined && char >= '0' && char <= '9')) return this.number();
    for (const [word, value] of [
      ['true', true],
      ['false', false],
      ['null', null],
    ] as const) {
      if (this.text.startsWith(word, this.at)) {
        this.at += word.length;
        return value;
      }
    }
    return this.fail(`expected a value, found ${this.found()}`);
  }

  private object(depth: number): JsonObject {
    this.checkDepth(depth);
    this.at++;
    const entries = new Map<string, JsonValue>();
    this.skipSpace();
    if (this.text[this.at] === '}') {
      this.at++;
      return entries;
    }
    for (;;) {
      this.skipSpace();
      if (this.text[this.at] !== '"')
        this.fail(`expected a key in double quotes, found ${this.found()}`);
      const keyAt = this.at;
      const key = this.string();
      if (entries.has(key)) this.fail(`key "${key}" appears twice in one object`, keyAt);
      this.skipSpace();
      this.expect(':');
      entries.set(key, this.value(depth));
      this.skipSpace();
      if (this.text[this.at] === '}') {
        this.at++;
        return entries;
      }
      this.expect(',', "',' or '}'");
    }
  }

  private array(depth: number): JsonValue[] {
    this.checkDepth(depth);
    this.at++;
    const items: JsonValue[] = [];
    this.skipSpace();
    if (this.text[this.at] === ']') {
      this.at++;
      return items;
    }
    for (;;) {
      items.push(this.value(depth));
      this.skipSpace();
      if (this.text[this.at] === ']') {
        this.at++;
        return items;
      }
      this.expect(',', "',' or ']'");
    }
  }

  private string(): string {
    const start = this.at++;
    let result = '';
    for (;;) {
      const char = this.text[this.at];
      if (char === undefined) this.fail('this string is not closed', start);
      if (char === '"') {
        this.at++;
        return result;
      }
      if (char.charCodeAt(0) < 0x20) this.fail('a control character must be escaped in a string');
      if (char !== '\\') {
        result += char;
        this.at++;
        continue;
      }
      const escape = this.text[this.at + 1];
      if (escape === 'u') {
        const hex = this.text.slice(this.at + 2, this.at + 6);
        if (!/^[0-9a-fA-F]{4}$/.test(hex)) this.fail('\\u needs four hexadecimal digits');
        result += String.fromCharCode(parseInt(hex, 16));
        this.at += 6;
      } else if (escape !== undefined && Object.hasOwn(ESCAPES, escape)) {
        result += ESCAPES[escape];
        this.at += 2;
      } else {
        this.fail(`'\\${escape ?? ''}' is not a JSON escape`);
      }
    }
  }

  private number(): number {
    NUMBER.lastIndex = this.at;
    const match = NUMBER.exec(this.text);
    if (!match) return this.fail(`expected a number, found ${this.found()}`);
    const value = Number(match[0]);
    if (!Number.isFinite(value)) this.fail(`${match[0]} is too large for a number`);
    this.at += match[0].length;
    return value;
  }

  private checkDepth(depth: number): void {
    if (depth > MAX_DEPTH) this.fail(`nested deeper than ${MAX_DEPTH} levels`);
  }

  private expect(char: string, what = `'${char}'`): void {
    if (this.text[this.at] !== char) this.fail(`expected ${what}, found ${this.found()}`);
    this.at++;
  }

  private skipSpace(): void {
    while (/^[ \t\n\r]$/.test(this.text[this.at] ?? '')) this.at++;
  }

  private found(): string {
    const char = this.text[this.at];
    return char === undefined ? 'the end of the file' : JSON.stringify(char);
  }

  private fail(message: string, offset = this.at): never {
    throw new JsonSyntaxError(offset, message);
  }
}
