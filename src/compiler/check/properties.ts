import type { DiagnosticBag } from '../diagnostics.js';
import { spanCover, type Span } from '../source.js';
import { didYouMean, quoteList } from '../suggest.js';
import type { BlockDeclaration, NumberValue, Property, Value } from '../syntax/ast.js';
import { formatBytes, MAX_LAYERS, MAX_SIZE } from './limits.js';

/**
 * Reads the properties of one block against the list of names it allows: unknown names get a
 * suggestion, repeated ones an error; the typed readers below check each property's values.
 */
export function collectProperties(
  block: BlockDeclaration,
  allowed: readonly string[],
  bag: DiagnosticBag,
): Map<string, Property> {
  const found = new Map<string, Property>();
  for (const property of block.properties) {
    const name = property.name.text;
    if (!allowed.includes(name)) {
      bag.report(
        'E0106',
        property.name.span,
        `unknown property '${name}' in ${block.keyword.text} '${block.name.text}'`,
        didYouMean(name, allowed) ?? `${block.keyword.text} properties are ${quoteList(allowed)}`,
      );
      continue;
    }
    const earlier = found.get(name);
    if (earlier) {
      bag.report(
        'E0107',
        property.span,
        `'${name}' is given twice in ${block.keyword.text} '${block.name.text}'`,
        'remove one of them',
      );
      continue;
    }
    found.set(name, property);
  }
  return found;
}

function describeValue(value: Value): string {
  if (value.kind === 'range') return `range ${value.from.text}..${value.to.text}`;
  if (value.kind === 'string') return `the string ${value.text}`;
  return `'${value.text}'`;
}

function valuesSpan(property: Property): Span {
  const first = property.values[0];
  const last = property.values[property.values.length - 1];
  return first && last ? spanCover(first.span, last.span) : property.span;
}

/** The single value of a property, or undefined after reporting why not. */
function single(property: Property, expected: string, bag: DiagnosticBag): Value | undefined {
  if (property.values.length === 1) return property.values[0];
  if (property.values.length === 0) {
    bag.report('E0109', property.span, `'${property.name.text}' needs ${expected}`);
  } else {
    bag.report(
      'E0109',
      valuesSpan(property),
      `'${property.name.text}' takes one value, found ${property.values.length}`,
      `write ${expected}`,
    );
  }
  return undefined;
}

/**
 * The value of a number literal, or undefined after reporting why it cannot be used: too large
 * for a double, or an integer past 2^53 that a double cannot hold exactly. A malformed number
 * was reported by the lexer and is refused silently.
 */
export function readLiteral(value: NumberValue, bag: DiagnosticBag): number | undefined {
  if (value.malformed) return undefined;
  if (!Number.isFinite(value.value)) {
    bag.report('E0112', value.span, `${value.text} is not a finite number`);
    return undefined;
  }
  if (underflows(value)) {
    bag.report(
      'E0112',
      value.span,
      `${value.text} is too small to be held: it would be read as 0`,
      'the smallest magnitude a number holds is about 5e-324; write 0 if 0 is meant',
    );
    return undefined;
  }
  if (
    Number.isInteger(value.value) &&
    !Number.isSafeInteger(value.value) &&
    /^-?\d+$/.test(value.text)
  ) {
    bag.report(
      'E0112',
      value.span,
      `${value.text} is too large to be held exactly: integers go up to 2^53 - 1 (${Number.MAX_SAFE_INTEGER})`,
    );
    return undefined;
  }
  return value.value;
}

/** A literal with a nonzero digit before its exponent whose value is 0 all the same (`1e-400`). */
export function underflows(value: NumberValue): boolean {
  return value.value === 0 && /[1-9]/.test(value.text.split(/[eE]/)[0]!);
}

export function readNumber(property: Property, bag: DiagnosticBag): NumberValue | undefined {
  const value = single(property, 'a number', bag);
  if (!value) return undefined;
  if (value.kind !== 'number') {
    bag.report(
      'E0108',
      value.span,
      `'${property.name.text}' expects a number, found ${describeValue(value)}`,
    );
    return undefined;
  }
  return readLiteral(value, bag) === undefined ? undefined : value;
}

/**
 * A positive integer such as hidden or bottleneck, at most `max`. For a `row` size (the width of
 * a row of values), the help line says what a row past the limit would take.
 */
export function readSize(
  property: Property,
  bag: DiagnosticBag,
  { max = MAX_SIZE, row = false }: { max?: number; row?: boolean } = {},
): number | undefined {
  const value = readNumber(property, bag);
  if (!value) return undefined;
  if (!Number.isInteger(value.value) || value.value <= 0 || value.value > max) {
    const tooLarge = row && Number.isInteger(value.value) && value.value > MAX_SIZE;
    bag.report(
      'E0105',
      value.span,
      `'${property.name.text}' must be a positive integer up to ${max}, found ${value.text}`,
      tooLarge
        ? `a row of ${value.text} f32 values would take ${formatBytes(value.value * 4)}; sizes stop at 2^24 (a 64 MiB row) so any row fits a 128 MiB storage binding`
        : undefined,
    );
    return undefined;
  }
  return value.value;
}

/**
 * A number that must be greater than zero, such as eps or temperature; also in f32, where a
 * tiny one rounds to 0 and a huge one to infinity.
 */
export function readPositive(property: Property, bag: DiagnosticBag): number | undefined {
  const value = readNumber(property, bag);
  if (!value) return undefined;
  const name = property.name.text;
  if (!(value.value > 0)) {
    bag.report('E0112', value.span, `'${name}' must be greater than 0, found ${value.text}`);
    return undefined;
  }
  const inF32 = Math.fround(value.value);
  if (inF32 === 0 || !Number.isFinite(inF32)) {
    bag.report(
      'E0112',
      value.span,
      `'${name}' ${value.text} is ${inF32 === 0 ? '0' : 'infinite'} in f32, the precision the model runs in`,
    );
    return undefined;
  }
  return value.value;
}

export function readChoice<T extends string>(
  property: Property,
  choices: readonly T[],
  bag: DiagnosticBag,
): T | undefined {
  const value = single(property, `one of ${quoteList(choices)}`, bag);
  if (!value) return undefined;
  if (value.kind === 'word' && (choices as readonly string[]).includes(value.text)) {
    return value.text as T;
  }
  bag.report(
    'E0108',
    value.span,
    `invalid value ${describeValue(value)} for '${property.name.text}'`,
    (value.kind === 'word' ? didYouMean(value.text, choices) : undefined) ??
      `expected ${quoteList(choices)}`,
  );
  return undefined;
}

/** A comma-separated list of words, each reported once if repeated. */
export function readWords(property: Property, bag: DiagnosticBag): { text: string; span: Span }[] {
  const words: { text: string; span: Span }[] = [];
  const seen = new Set<string>();
  if (property.values.length === 0) {
    bag.report('E0109', property.span, `'${property.name.text}' needs at least one name`);
  }
  for (const value of property.values) {
    if (value.kind !== 'word') {
      bag.report('E0108', value.span, `expected a name, found ${describeValue(value)}`);
    } else if (seen.has(value.text)) {
      bag.report('E0206', value.span, `'${value.text}' is listed twice`, 'remove the repetition');
    } else {
      seen.add(value.text);
      words.push({ text: value.text, span: value.span });
    }
  }
  return words;
}

/** The sites named by a property, or undefined if any of its values is invalid. */
export function readSites<T extends string>(
  property: Property,
  sites: readonly T[],
  bag: DiagnosticBag,
): { site: T; span: Span }[] | undefined {
  const result: { site: T; span: Span }[] = [];
  const errors = bag.errorCount;
  for (const word of readWords(property, bag)) {
    if ((sites as readonly string[]).includes(word.text)) {
      result.push({ site: word.text as T, span: word.span });
    } else {
      bag.report(
        'E0108',
        word.span,
        `unknown site '${word.text}'`,
        didYouMean(word.text, sites) ?? `sites are ${quoteList(sites)}`,
      );
    }
  }
  return bag.errorCount > errors ? undefined : result;
}

/**
 * A layer selection `3 | 0..5 | 0..5, 8, 10..11` (inclusive), checked against the model's layer
 * count when it is known. Returns sorted indices, or undefined if any item was invalid.
 */
export function readLayers(
  property: Property,
  layerCount: number | undefined,
  bag: DiagnosticBag,
): number[] | undefined {
  const seen = new Map<number, Span>();
  let valid = true;
  if (property.values.length === 0) {
    bag.report('E0109', property.span, `'layers' needs at least one layer index or range`);
    return undefined;
  }
  const inRange = (index: NumberValue): boolean => {
    if (readLiteral(index, bag) === undefined) return false;
    if (!Number.isInteger(index.value) || index.value < 0) {
      bag.report(
        'E0108',
        index.span,
        `layer index must be a non-negative integer, found ${index.text}`,
      );
      return false;
    }
    if (layerCount !== undefined && index.value >= layerCount) {
      bag.report(
        'E0204',
        index.span,
        `layer ${index.text} is out of range: the model has ${layerCount} layers (0..${layerCount - 1})`,
      );
      return false;
    }
    if (index.value >= MAX_LAYERS) {
      bag.report(
        'E0204',
        index.span,
        `layer ${index.text} is out of range: a model has at most ${MAX_LAYERS} layers`,
      );
      return false;
    }
    return true;
  };
  for (const value of property.values) {
    if (value.kind === 'word' || value.kind === 'string') {
      bag.report(
        'E0108',
        value.span,
        `expected a layer index or range, found ${describeValue(value)}`,
      );
      valid = false;
      continue;
    }
    const [from, to] = value.kind === 'range' ? [value.from, value.to] : [value, value];
    const fromOk = inRange(from);
    const toOk = to === from || inRange(to);
    if (!fromOk || !toOk) {
      valid = false;
      continue;
    }
    if (from.value > to.value) {
      bag.report(
        'E0205',
        value.span,
        `layer range ${from.text}..${to.text} is reversed`,
        `write ${to.text}..${from.text}`,
      );
      valid = false;
      continue;
    }
    for (let layer = from.value; layer <= to.value; layer++) {
      if (seen.has(layer)) {
        bag.report('E0206', value.span, `layer ${layer} is listed twice`, 'remove the repetition');
        valid = false;
        break;
      }
      seen.set(layer, value.span);
    }
  }
  return valid ? [...seen.keys()].sort((a, b) => a - b) : undefined;
}
