import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { printWgsl } from '../src/compiler/codegen/print-plan.js';
import { compile } from '../src/compiler/index.js';

const examplesDir = new URL('../examples/', import.meta.url);
const examples = readdirSync(examplesDir).filter((f) => f.endsWith('.adapt'));
const source = (file: string) => readFileSync(new URL(file, examplesDir), 'utf8');

function plan(
  file: string,
  options: { fuse?: boolean; target?: 'software' | 'gpu'; graph?: string } = {},
) {
  const { program, diagnostics } = compile(source(file), { fileName: file, ...options });
  expect(diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
  return program!.gpu!;
}

describe('WGSL codegen', () => {
  for (const file of examples) {
    for (const target of ['software', 'gpu'] as const) {
      it(`emits the golden WGSL for ${file} (${target})`, async () => {
        const name = file.replace('.adapt', '');
        await expect(printWgsl(plan(file, { target }))).toMatchFileSnapshot(
          `golden/${name}.${target}.wgsl`,
        );
      });
    }
  }

  it('is deterministic and uses generated identifiers only', () => {
    const first = printWgsl(plan('bert-base-fusion.adapt'));
    expect(printWgsl(plan('bert-base-fusion.adapt'))).toBe(first);
    for (const name of ['sentiment', 'ner', 'nli', 'multitask', 'bert'])
      expect(first).not.toContain(name);
  });

  it('shares one kernel among all layers', () => {
    const fused = plan('bert-base-pfeiffer.adapt');
    // 12 layers, but only a handful of distinct kernels.
    expect(fused.kernels.length).toBeLessThanOrEqual(8);
    expect(fused.dispatches.length).toBe(12 * 10);
  });

  it('fuses a Pfeiffer BERT layer into fewer dispatches, one per adapter bottleneck', () => {
    const fused = plan('bert-base-pfeiffer.adapt');
    const unfused = plan('bert-base-pfeiffer.adapt', { fuse: false });
    const perLayer = (p: typeof fused, layer: number) =>
      p.dispatches.filter((d) => d.label.includes(`(L${layer}/`)).length;
    for (let layer = 0; layer < 12; layer++)
      expect(perLayer(fused, layer)).toBeLessThan(perLayer(unfused, layer));
    expect(perLayer(fused, 0)).toBe(10);
    expect(perLayer(unfused, 0)).toBe(24);
    const adapterDispatches = fused.dispatches.filter((d) =>
      d.label.includes('/adapter:sentiment'),
    );
    expect(adapterDispatches).toHaveLength(12);
    expect(adapterDispatches.every((d) => d.label.includes(' bottleneck '))).toBe(true);
  });

  it('computes AdapterFusion with one mix kernel and one folded query, W_V projection per covered site', () => {
    const fused = plan('bert-base-fusion.adapt');
    const layer0 = fused.dispatches.filter((d) => d.label.includes('(L0/ffn/fusion:multitask)'));
    expect(layer0.map((d) => d.label.split(' ')[1])).toEqual(['linear', 'fusion_mix', 'linear']);
    // M = W_Kᵀ·W_Q (k-major for the linear kernel) and c = W_Kᵀ·b_Q, computed once at load.
    const loads = fused.loadDispatches!.filter((d) =>
      d.label.includes('(L0/ffn/fusion:multitask)'),
    );
    expect(loads.map((d) => fused.kernels[d.kernel]!.name)).toEqual([
      'weight_product_vec4_768x768x768_t',
      'weight_product_scalar_768x768x1',
    ]);
    const query = layer0[0]!;
    const computed = loads.map((d) => d.args.at(-1)!);
    expect(query.args.slice(1, 3)).toEqual(computed);
    for (const arg of computed)
      expect(arg.kind === 'weights' && fused.uploads[arg.upload]!.parts).toEqual([]);
  });

  it('keeps every workgroup within 256 invocations', () => {
    for (const file of examples) {
      for (const target of ['software', 'gpu'] as const) {
        for (const kernel of plan(file, { target }).kernels) {
          const size = /@workgroup_size\(([^)]*)\)/.exec(kernel.wgsl)![1]!.split(',').map(Number);
          expect(size.reduce((a, b) => a * b, 1)).toBeLessThanOrEqual(256);
        }
      }
    }
  });

  it('reuses activation buffers', () => {
    const fused = plan('bert-base-houlsby.adapt');
    // Without reuse every value would have its own buffer.
    expect(fused.buffers.length).toBeLessThanOrEqual(8);
    expect(fused.dispatches.length).toBeGreaterThan(100);
  });
});
