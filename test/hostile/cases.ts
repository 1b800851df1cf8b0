import type { DiagnosticCode } from '../../src/compiler/diagnostics.js';

/**
 * Hostile sources for the front end: each is checked by test/hostile/frontend.test.ts, and its
 * `fragment` is spliced into the examples by test/fuzz.test.ts. Sizes are chosen so that an
 * algorithm quadratic in the input would run far past the test timeout, so no time is asserted.
 */
export interface HostileCase {
  readonly name: string;
  readonly text: string;
  /** A diagnostic the text must produce, or 'ok' for no error (warnings allowed). */
  readonly expected: DiagnosticCode | 'ok';
  /** A short piece of the text for mutation fuzzing. */
  readonly fragment: string;
}

const MODEL = 'model m { hidden 64 heads 4 ffn 128 layers 4 }\n';
const ADAPTER = 'adapter a { bottleneck 8 at ffn }\n';
const BERT = 'model bert { hidden 768 heads 12 ffn 3072 layers 12 }\n';
const names = (count: number, prefix: string) =>
  Array.from({ length: count }, (_, i) => `${prefix}${i}`).join(', ');

function hostile(
  name: string,
  expected: HostileCase['expected'],
  fragment: string,
  text: string,
): HostileCase {
  return { name, text, expected, fragment };
}

export const HOSTILE_CASES: readonly HostileCase[] = [
  // Nesting: refused before any stage recurses.
  hostile(
    '5000 nested stack(',
    'E0005',
    'stack(stack(stack(',
    `${MODEL}${ADAPTER}graph g = ${'stack('.repeat(5000)}a${')'.repeat(5000)}`,
  ),
  hostile(
    '5000 unclosed stack(',
    'E0005',
    'stack(stack(',
    `${MODEL}${ADAPTER}graph g = ${'stack('.repeat(5000)}a`,
  ),
  hostile('5000 bare (', 'E0005', '((((', `${MODEL}graph g = ${'('.repeat(5000)}`),
  hostile(
    '5000 nested average( with weights',
    'E0005',
    'average(a: 1, ',
    `${MODEL}${ADAPTER}graph g = ${'average(a: 1, '.repeat(5000)}a${')'.repeat(5000)}`,
  ),
  hostile(
    '100,000 ( inside a block',
    'E0003',
    '{ ((',
    `${MODEL}adapter a { bottleneck 8 ${'('.repeat(100_000)} }`,
  ),
  // Size: linear in declarations and tokens.
  hostile(
    '30,000 adapters',
    'ok',
    ADAPTER,
    MODEL +
      Array.from({ length: 30_000 }, (_, i) => `adapter a${i} { bottleneck 8 at ffn }`).join('\n'),
  ),
  hostile('the model named as a graph', 'E0401', 'graph g = m', `${MODEL}${ADAPTER}graph g = m`),
  hostile(
    '300,000 names in one stack',
    'E0401',
    'stack(b0, b1',
    `${MODEL}${ADAPTER}graph g = stack(${names(300_000, 'b')})`,
  ),
  hostile(
    '300,000 names in one fusion',
    'E0302',
    'adapters a, b0, b1',
    `${MODEL}${ADAPTER}fusion f { adapters a, ${names(300_000, 'b')} }`,
  ),
  hostile(
    '300,000 repeated names in one fusion',
    'E0206',
    'adapters a, a, a',
    `${MODEL}${ADAPTER}fusion f { adapters ${Array(300_000).fill('a').join(', ')} }`,
  ),
  hostile('50,000 duplicate adapters', 'E0102', ADAPTER, MODEL + ADAPTER.repeat(50_000)),
  hostile('5 MB of comment', 'ok', '# comment', `${MODEL}#${'x'.repeat(5_000_000)}`),
  hostile('5 MB identifier', 'E0007', 'a'.repeat(300), `${MODEL}${'a'.repeat(5_000_000)}`),
  hostile(
    '1 MB property name',
    'E0007',
    'b'.repeat(300),
    `${MODEL}adapter a { ${'b'.repeat(1_000_000)} 8 at ffn }`,
  ),
  hostile(
    '5 MB number',
    'E0007',
    '9'.repeat(300),
    `${MODEL}adapter a { bottleneck ${'9'.repeat(5_000_000)} at ffn }`,
  ),
  hostile('1 MB of @', 'E0001', '@@@@', MODEL + '@'.repeat(1_000_000)),
  hostile('500,000 spaced @', 'E0008', '@ @ @', MODEL + '@ '.repeat(500_000)),
  hostile('1 MB of }', 'E0002', '}}}}', MODEL + '}'.repeat(1_000_000)),
  hostile('1 MB of )', 'E0002', '))))', MODEL + ')'.repeat(1_000_000)),
  hostile('200,000 {', 'E0003', '{{{{', MODEL + '{'.repeat(200_000)),
  hostile('100,000 broken graphs', 'E0002', 'a b = c ) ', MODEL + 'a b = c ) '.repeat(100_000)),
  hostile(
    '100,000 errors in one block',
    'E0002',
    'at ) ',
    `${MODEL}adapter a { ${'at ) '.repeat(100_000)}}`,
  ),
  // Characters.
  hostile('byte-order mark', 'ok', '\uFEFF', `\uFEFF${MODEL}${ADAPTER}`),
  hostile('byte-order mark inside', 'E0006', '\uFEFF', `${MODEL}\uFEFF${ADAPTER}`),
  hostile('NUL', 'E0006', '\0', `${MODEL}adapter a { bottleneck 8\0 at ffn }`),
  hostile('a million NULs', 'E0006', '\0\0\0', MODEL + '\0'.repeat(1_000_000)),
  hostile('UTF-16 read as UTF-8', 'E0006', 'm\0o\0', Array.from(MODEL, (c) => `${c}\0`).join('')),
  hostile('escape character', 'E0006', '\x1b[31m', `${MODEL}\x1b[31m${ADAPTER}`),
  hostile(
    'bidirectional override in a comment',
    'E0006',
    '# \u202E',
    `${MODEL}# \u202Eevil\n${ADAPTER}`,
  ),
  hostile('lone surrogate', 'E0006', '\uD800', `${MODEL}adapter a\uD800 { bottleneck 8 at ffn }`),
  hostile('replacement character', 'E0006', '\uFFFD', `${MODEL}# caf\uFFFD\n${ADAPTER}`),
  hostile(
    'emoji outside a comment',
    'E0001',
    '\u{1F600}',
    `${MODEL}adapter a { bottleneck 8 at ffn \u{1F600} }`,
  ),
  // Numbers.
  hostile('hexadecimal', 'E0004', '0x10', `${MODEL}adapter a { bottleneck 0x10 at ffn }`),
  hostile('digit separators', 'E0004', '1_000', `${MODEL}adapter a { bottleneck 1_000 at ffn }`),
  hostile(
    'exponent without digits',
    'E0004',
    '1e',
    `${MODEL}adapter a { bottleneck 8 at ffn scale 1e }`,
  ),
  hostile(
    'fraction without digits',
    'E0004',
    '.5',
    `${MODEL}adapter a { bottleneck 8 at ffn scale .5 }`,
  ),
  hostile('number glued to a word', 'E0004', '8at', `${MODEL}adapter a { bottleneck 8at ffn }`),
  hostile(
    'unsafe integer layer',
    'E0112',
    '9007199254740993',
    `${MODEL}adapter a { bottleneck 8 at ffn layers 0..9007199254740993 }`,
  ),
  hostile(
    'layer range with no model',
    'E0204',
    '0..1000000000000',
    `adapter a { bottleneck 8 at ffn layers 0..1000000000000 }`,
  ),
  hostile(
    'scale 1e39',
    'E0112',
    'scale 1e39',
    `${MODEL}adapter a { bottleneck 8 at ffn scale 1e39 }`,
  ),
  hostile(
    'scale 1e30',
    'E0112',
    'scale 1e30',
    `${MODEL}adapter a { bottleneck 8 at ffn scale 1e30 }`,
  ),
  hostile(
    'temperature 0',
    'E0112',
    'temperature 0',
    `${MODEL}${ADAPTER}adapter b { bottleneck 8 at ffn }\nfusion f { adapters a, b temperature 0 }`,
  ),
  hostile(
    'temperature 1e-30',
    'E0112',
    'temperature 1e-30',
    `${MODEL}${ADAPTER}adapter b { bottleneck 8 at ffn }\nfusion f { adapters a, b temperature 1e-30 }`,
  ),
  hostile(
    'eps 1e-50',
    'E0112',
    'eps 1e-50',
    'model m { hidden 64 heads 4 ffn 128 layers 4 eps 1e-50 }',
  ),
  hostile(
    'average weights overflow',
    'E0403',
    'a: 1e308',
    `${MODEL}${ADAPTER}adapter b { bottleneck 8 at ffn }\ngraph g = average(a: 1e308, b: 1e308)`,
  ),
  // Sizes whose weights cannot exist.
  hostile(
    'BERT width with 100,000 layers',
    'E0113',
    'layers 100000',
    'model m { hidden 768 heads 12 ffn 3072 layers 100000 }',
  ),
  hostile(
    '20,000 small layers',
    'E0105',
    'layers 20000',
    'model m { hidden 8 heads 1 ffn 8 layers 20000 }',
  ),
  hostile(
    'hidden 50,000,000',
    'E0105',
    'hidden 50000000',
    'model m { hidden 50000000 heads 1 ffn 8 layers 1 }',
  ),
  hostile(
    'adapters past 64 GiB',
    'E0113',
    'bottleneck 16777216',
    `${BERT}adapter a { bottleneck 16777216 at attn, ffn }`,
  ),
  hostile(
    '10,000 layers, one fusion',
    'ok',
    'layers 10000',
    `model m { hidden 8 heads 1 ffn 8 layers 10000 }\nadapter a { bottleneck 4 at ffn }\nadapter b { bottleneck 4 at ffn }\nfusion f { adapters a, b }`,
  ),
];
