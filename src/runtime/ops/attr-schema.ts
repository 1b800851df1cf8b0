import {
  fail,
  readArray,
  readBoolean,
  readInteger,
  readNumber,
  readOneOf,
  readString,
} from '../validate/read.js';

/**
 * The type of one op attribute. The registry declares each op's attributes with these, so the
 * verifier and the program loader check attribute types, and TypeScript derives the attribute
 * types the code reads (`AttrsOf`).
 */
export type AttrKind =
  | { readonly type: 'number'; readonly min?: number }
  | { readonly type: 'integer'; readonly min: number }
  | { readonly type: 'boolean' }
  | { readonly type: 'string' }
  | { readonly type: 'oneOf'; readonly values: readonly string[] }
  | { readonly type: 'list'; readonly item: AttrKind };

export type AttrSchema = Readonly<Record<string, AttrKind>>;

export type AttrType<K> = K extends { readonly type: 'number' | 'integer' }
  ? number
  : K extends { readonly type: 'boolean' }
    ? boolean
    : K extends { readonly type: 'string' }
      ? string
      : K extends { readonly type: 'oneOf'; readonly values: readonly (infer V)[] }
        ? V
        : K extends { readonly type: 'list'; readonly item: infer I }
          ? readonly AttrType<I>[]
          : never;

export type AttrsOf<S extends AttrSchema> = { readonly [K in keyof S]: AttrType<S[K]> };

export const finite = { type: 'number' } as const;
export const nonNegative = { type: 'number', min: 0 } as const;
export const integer = (min: number) => ({ type: 'integer', min }) as const;
export const flag = { type: 'boolean' } as const;
export const text = { type: 'string' } as const;
export const oneOf = <const V extends readonly string[]>(values: V) =>
  ({ type: 'oneOf', values }) as const;
/** A list of one or more items. */
export const listOf = <const I extends AttrKind>(item: I) => ({ type: 'list', item }) as const;

/** Throws a ProgramError naming `path` when `value` is not of `kind`. */
export function checkAttr(kind: AttrKind, value: unknown, path: string): void {
  switch (kind.type) {
    case 'number':
      readNumber(value, path, kind.min);
      return;
    case 'integer':
      readInteger(value, path, kind.min);
      return;
    case 'boolean':
      readBoolean(value, path);
      return;
    case 'string':
      readString(value, path);
      return;
    case 'oneOf':
      readOneOf(value, path, kind.values);
      return;
    case 'list': {
      const list = readArray(value, path);
      if (list.length === 0) fail(path, 'must not be empty');
      list.forEach((entry, i) => checkAttr(kind.item, entry, `${path}[${i}]`));
    }
  }
}

/**
 * Throws a ProgramError for the first attribute of `schema` that `attrs` lacks or holds with the
 * wrong type; `path` names the attribute object, e.g. `program.nodes[3].attrs`.
 */
export function checkAttrs(
  op: string,
  schema: AttrSchema,
  attrs: Readonly<Record<string, unknown>>,
  path: string,
): void {
  for (const [name, kind] of Object.entries(schema)) {
    if (!Object.hasOwn(attrs, name)) fail(path, `${op} needs '${name}'`);
    checkAttr(kind, attrs[name], `${path}.${name}`);
  }
}
