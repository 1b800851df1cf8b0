import { parseJson } from '../../compiler/index.js';
import { describeValue } from '../../runtime/guards.js';
import { badRequest } from './http-error.js';

/** The bodies the API takes, read strictly: every problem is a 400 naming the key. */

/** Longest text a request may hold, in UTF-16 code units (the tokenizer cuts tokens anyway). */
export const MAX_TEXT_LENGTH = 100_000;
/** Most texts one request may hold. */
export const MAX_TEXTS = 256;
const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

export type Route = { readonly adapter: string } | { readonly graph: string };

export interface ClassifyRequest {
  readonly route: Route;
  readonly texts: readonly string[];
}

export interface AddAdapterRequest {
  readonly name: string;
  /** An AdapterHub adapter directory (adapter_config.json and its weights). */
  readonly path: string;
  /** Its prediction head's directory (head_config.json and its weights), if it has one. */
  readonly head?: string;
}

/** A value as the messages name it: numbers and booleans with their type, a JSON object as one. */
const describe = (value: unknown): string => {
  if (value instanceof Map) return 'an object';
  if (typeof value === 'number' || typeof value === 'boolean')
    return `the ${typeof value} ${String(value)}`;
  return describeValue(value);
};

/** The body as strict JSON (a key given twice is an error): an object, or a 400 saying where not. */
export function parseJsonBody(body: string): Record<string, unknown> {
  const parsed = parseJson(body);
  if (!parsed.ok)
    throw badRequest(
      `the body is not JSON: line ${parsed.line}, column ${parsed.column}: ${parsed.message}`,
    );
  const value = parsed.value;
  if (!(value instanceof Map))
    throw badRequest(`the body must be a JSON object, got ${describe(value)}`);
  return Object.fromEntries(value) as Record<string, unknown>;
}

function requireKeys(body: Record<string, unknown>, allowed: readonly string[]): void {
  for (const key of Object.keys(body)) {
    if (!allowed.includes(key))
      throw badRequest(
        `unknown key '${key}'; the keys are ${allowed.map((k) => `'${k}'`).join(', ')}`,
      );
  }
}

function requireString(body: Record<string, unknown>, key: string): string {
  const value = body[key];
  if (typeof value !== 'string' || value.length === 0)
    throw badRequest(`'${key}' must be a non-empty string, got ${describe(value)}`);
  return value;
}

function requireName(body: Record<string, unknown>, key: string): string {
  const value = requireString(body, key);
  if (!NAME.test(value))
    throw badRequest(
      `'${key}' must be a name (letters, digits and _, not first a digit), got ${describe(value)}`,
    );
  return value;
}

export function readClassifyRequest(body: Record<string, unknown>): ClassifyRequest {
  requireKeys(body, ['adapter', 'graph', 'texts']);
  const hasAdapter = body.adapter !== undefined;
  if (hasAdapter === (body.graph !== undefined))
    throw badRequest("give either 'adapter' (an adapter's name) or 'graph' (a graph's name)");
  const route = hasAdapter
    ? { adapter: requireName(body, 'adapter') }
    : { graph: requireName(body, 'graph') };
  const texts = body.texts;
  if (!Array.isArray(texts) || texts.length === 0)
    throw badRequest(`'texts' must be a non-empty array of strings, got ${describe(texts)}`);
  if (texts.length > MAX_TEXTS)
    throw badRequest(
      `'texts' holds ${texts.length} texts; a request may hold at most ${MAX_TEXTS}`,
    );
  texts.forEach((text: unknown, i) => {
    if (typeof text !== 'string')
      throw badRequest(`'texts[${i}]' must be a string, got ${describe(text)}`);
    if (text.length > MAX_TEXT_LENGTH)
      throw badRequest(
        `'texts[${i}]' is ${text.length} characters long; the most is ${MAX_TEXT_LENGTH}`,
      );
  });
  return { route, texts: texts as string[] };
}

export function readAddAdapterRequest(body: Record<string, unknown>): AddAdapterRequest {
  requireKeys(body, ['name', 'path', 'head']);
  const name = requireName(body, 'name');
  const path = requireString(body, 'path');
  const head = body.head === undefined ? undefined : requireString(body, 'head');
  return { name, path, ...(head === undefined ? {} : { head }) };
}
