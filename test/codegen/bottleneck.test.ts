import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  bottleneckWgsl,
  SCALAR_LANES,
  VEC4_LANES,
  type BottleneckAdapter,
  type BottleneckLayout,
  type Lanes,
} from '../../src/compiler/codegen/kernels/bottleneck.js';

/** The WGSL of the kernel named `name` in a golden file of test/golden. */
function goldenKernel(file: string, name: string): string {
  const text = readFileSync(new URL(`../golden/${file}`, import.meta.url), 'utf8');
  const blocks = text.split(/^\/\/ kernel k\d+: /m).slice(1);
  const block = blocks.find((b) => b.startsWith(`${name}, `));
  if (block === undefined) throw new Error(`no kernel ${name} in ${file}`);
  const wgsl = block.slice(block.indexOf('\n') + 1);
  // Kernels are joined by a newline after each one's own final newline.
  return blocks.at(-1) === block ? wgsl : wgsl.slice(0, -1);
}

const adapter = (pack: string, r: number, rest: Partial<BottleneckAdapter> = {}) => ({
  pack,
  r,
  scale: 1,
  activation: 'relu' as const,
  read: 'y' as const,
  ...rest,
});

const cases: readonly [string, string, BottleneckLayout, Lanes][] = [
  [
    'worked-example.software.wgsl',
    'bottleneck_4_2reluyx1',
    { d: 4, rows: 4, rMax: 2, residual: true, adapters: [adapter('adapter0', 2)] },
    SCALAR_LANES,
  ],
  [
    'bert-base-pfeiffer.software.wgsl',
    'bottleneck_768_v4_64reluyx1',
    { d: 768, rows: 4, rMax: 64, residual: true, adapters: [adapter('adapter0', 64)] },
    VEC4_LANES,
  ],
  [
    'bert-base-parallel.software.wgsl',
    'bottleneck_768_v4_32reluyx4_delta',
    {
      d: 768,
      rows: 4,
      rMax: 32,
      residual: false,
      adapters: [adapter('adapter0', 32, { scale: 4 })],
    },
    VEC4_LANES,
  ],
  [
    'gpt2-small-adapters.software.wgsl',
    'bottleneck_768_v4_64reluyx1_48gelu_tanhyx0.5',
    {
      d: 768,
      rows: 4,
      rMax: 64,
      residual: true,
      adapters: [
        adapter('adapter0', 64),
        adapter('adapter1', 48, { scale: 0.5, activation: 'gelu_tanh' }),
      ],
    },
    VEC4_LANES,
  ],
];

describe('the bottleneck generator', () => {
  it.each(cases)('emits the golden %s kernel %s', (file, name, layout, lanes) => {
    expect(bottleneckWgsl(layout, lanes)).toBe(goldenKernel(file, name));
  });

  it('reads an adapter of u from u, the rest from the rows in workgroup memory', () => {
    const wgsl = bottleneckWgsl(
      {
        d: 8,
        rows: 2,
        rMax: 4,
        residual: true,
        adapters: [adapter('adapter0', 4, { read: 'u' }), adapter('adapter1', 4)],
      },
      VEC4_LANES,
    );
    expect(wgsl).toContain('s[1] = s[1] + dot(w, u[min(row0 + 1u, last) * D4 + c]);');
    expect(wgsl).toContain('s[1] = s[1] + dot(w, yrow[2u + c]);');
    expect(wgsl).toContain('var<workgroup> yrow: array<vec4f, 4>;');
    expect(wgsl).toContain('var<workgroup> hidden: array<vec4f, 2>;');
  });
});
