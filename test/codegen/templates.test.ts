import { describe, expect, it } from 'vitest';
import { KERNEL_TEMPLATES } from '../../src/compiler/codegen/templates.js';
import { ACTIVATION_FUNCTIONS } from '../../src/compiler/codegen/wgsl.js';
import { ACTIVATIONS, COMPUTE_OPS } from '../../src/runtime/ops/registry.js';

describe('the kernel template table', () => {
  it('has one template for exactly the ops that compute', () => {
    expect(Object.keys(KERNEL_TEMPLATES).sort()).toEqual([...COMPUTE_OPS].sort());
  });

  it('has WGSL for exactly the registry activations', () => {
    expect(Object.keys(ACTIVATION_FUNCTIONS).sort()).toEqual([...ACTIVATIONS].sort());
  });
});
