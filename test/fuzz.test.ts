import { readdirSync, readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { checkSource } from '../src/compiler/frontend.js';
import { seededUniform } from '../src/runtime/random.js';
import { HOSTILE_CASES } from './hostile/cases.js';

const examplesDir = new URL('../examples/', import.meta.url);
const examples = readdirSync(examplesDir)
  .filter((f) => f.endsWith('.adapt'))
  .map((f) => readFileSync(new URL(f, examplesDir), 'utf8'));

const TOKENS = [
  '{',
  '}',
  '(',
  ')',
  ',',
  ':',
  '=',
  '..',
  '#',
  'at',
  'ffn',
  'adapter',
  'graph',
  '0',
  '-1',
  '1e9',
  '@',
  '\n',
];

/** Pieces of hostile text: control characters, malformed numbers, deep nesting, long names. */
const HOSTILE_FRAGMENTS = HOSTILE_CASES.map((c) => c.fragment);

/** Deletes, duplicates or replaces a character or a token-sized piece of the text. */
function mutate(text: string, random: () => number): string {
  const pick = (n: number) => Math.floor(random() * n);
  let result = text;
  const edits = 1 + pick(4);
  for (let i = 0; i < edits; i++) {
    const at = pick(result.length + 1);
    const length = 1 + pick(random() < 0.5 ? 1 : 8);
    switch (pick(5)) {
      case 0:
        result = result.slice(0, at) + result.slice(at + length);
        break;
      case 1:
        result = result.slice(0, at) + result.slice(at, at + length) + result.slice(at);
        break;
      case 2:
        result = result.slice(0, at) + TOKENS[pick(TOKENS.length)]! + result.slice(at + length);
        break;
      case 3:
        result =
          result.slice(0, at) +
          HOSTILE_FRAGMENTS[pick(HOSTILE_FRAGMENTS.length)]! +
          result.slice(at);
        break;
      default:
        result = result.slice(0, at) + String.fromCharCode(32 + pick(95)) + result.slice(at + 1);
    }
  }
  return result;
}

function assertWellFormed(text: string): void {
  const { diagnostics } = checkSource(text, 'fuzz.adapt');
  for (const d of diagnostics) {
    expect(d.message).toBeTruthy();
    if (!d.span) continue;
    expect(d.span.start).toBeGreaterThanOrEqual(0);
    expect(d.span.end).toBeGreaterThanOrEqual(d.span.start);
    expect(d.span.end).toBeLessThanOrEqual(text.length);
  }
}

describe('fuzzing the front end', () => {
  it('never throws and keeps every span inside the file, on 3000 mutated examples', () => {
    const random = seededUniform(20261128);
    for (let i = 0; i < 3000; i++) {
      const text = mutate(examples[i % examples.length]!, random);
      try {
        assertWellFormed(text);
      } catch (error) {
        throw new Error(`failed on mutant ${i}:\n${text}\n${String(error)}`);
      }
    }
  });

  it('never throws on arbitrary strings built from the language alphabet', () => {
    const piece = fc.oneof(
      fc.constantFrom(...TOKENS, ' ', 'model m', 'hidden 8', 'stack(', 'batch(a', 'layers 0..3'),
      fc.constantFrom(...HOSTILE_FRAGMENTS),
      fc.string({ maxLength: 4 }),
    );
    fc.assert(
      fc.property(fc.array(piece, { maxLength: 40 }), (pieces) =>
        assertWellFormed(pieces.join(' ')),
      ),
      { seed: 42, numRuns: 2000 },
    );
  });
});
