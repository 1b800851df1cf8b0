import { seededUniform } from '../../src/runtime/random.js';

/**
 * The benchmark's texts: the same sentences on every run, drawn from a fixed word list with a
 * seeded generator. The list is the fixture vocabularies' words (test/fixtures/hf/), words that
 * split into several pieces (`loved` → `love ##d`, `unbelievable`), and words no vocabulary has,
 * so that the tokenizer does its whole job: normalizing, splitting, `##` pieces and `[UNK]`.
 */
export const WORDS: readonly string[] = [
  'the',
  'movie',
  'was',
  'great',
  'hello',
  'world',
  'I',
  'love',
  'loved',
  'loving',
  'this',
  'unbelievable',
  'film',
  'films',
  'is',
  'not',
  'good',
  'bad',
  'Alice',
  'lives',
  'in',
  'Paris',
  'Bob',
  'Smith',
  'visited',
  'New',
  'York',
  'hi',
  'Café',
  'a',
  'really',
  'xylophone',
];

const ENDINGS = ['.', '!', '?'];

export interface SentenceOptions {
  readonly count: number;
  readonly seed: number;
  readonly minWords: number;
  readonly maxWords: number;
}

export const SENTENCES: SentenceOptions = { count: 100, seed: 7, minWords: 4, maxWords: 40 };

/**
 * `count` sentences of `minWords` to `maxWords` words (uniformly many), capitalized, with a
 * comma after about one word in eight and a final `.`, `!` or `?`.
 */
export function sentences(options: SentenceOptions = SENTENCES): string[] {
  const uniform = seededUniform(options.seed);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(uniform() * items.length)]!;
  return Array.from({ length: options.count }, () => {
    const length =
      options.minWords + Math.floor(uniform() * (options.maxWords - options.minWords + 1));
    const words = Array.from({ length }, (_, i) => {
      const word = pick(WORDS);
      const comma = i < length - 1 && uniform() < 1 / 8 ? ',' : '';
      return `${word}${comma}`;
    });
    const first = words[0]!;
    words[0] = first[0]!.toUpperCase() + first.slice(1);
    return `${words.join(' ')}${pick(ENDINGS)}`;
  });
}

/** How many words a sentence of `sentences` has (its final punctuation not counted). */
export const wordCount = (sentence: string): number => sentence.split(' ').length;
