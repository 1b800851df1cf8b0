import { describe, expect, it } from 'vitest';
import { kernelTable } from '../../src/compiler/codegen/kernel-table.js';
import type { KernelEmission } from '../../src/compiler/codegen/kernel.js';

const emission = (name: string, wgsl: string, bindings = 1): KernelEmission => ({
  name,
  wgsl,
  args: Array.from({ length: bindings }, (_, node) => ({ kind: 'value', node })),
  groups: { perToken: 1, perSequence: 0, fixed: 0, divide: 1 },
});

describe('the kernel table', () => {
  it('gives equal WGSL one kernel, under the first name it came with', () => {
    const table = kernelTable();
    expect(table.indexOf(emission('matmul_8x8', 'fn a() {}', 2), 'node %3')).toBe(0);
    expect(table.indexOf(emission('add_8', 'fn b() {}'), 'node %4')).toBe(1);
    expect(table.indexOf(emission('matmul_8x8', 'fn a() {}', 2), 'node %9')).toBe(0);
    expect(table.indexOf(emission('linear_8x8', 'fn a() {}', 2), 'node %10')).toBe(0);
    expect(table.kernels).toEqual([
      { name: 'matmul_8x8', wgsl: 'fn a() {}', storageBindings: 3 },
      { name: 'add_8', wgsl: 'fn b() {}', storageBindings: 2 },
    ]);
  });

  it('rejects a name reused with other WGSL, naming both emitters', () => {
    const table = kernelTable();
    table.indexOf(emission('scale_8_2', 'out[i] = a[i] * 2.0f;'), 'node %5');
    expect(() => table.indexOf(emission('scale_8_2', 'out[i] = a[i] * 3.0f;'), 'node %7')).toThrow(
      "kernel 'scale_8_2' of node %7 differs in WGSL from the kernel of that name of node %5; equal names must mean equal WGSL",
    );
    expect(table.kernels).toHaveLength(1);
  });
});
