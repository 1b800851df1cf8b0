import { describe, expect, it } from 'vitest';
import { compile } from '../src/compiler/index.js';
import type { Program } from '../src/runtime/program.js';
import { initialTrainedWeights } from '../src/runtime/training/init/index.js';
import { initTensor } from '../src/runtime/weights.js';

/**
 * New adapters, fusions and heads start as the adapters library initializes them: the statistics
 * of each drawn tensor, the exact zeros, ones and identities, and one stream per seed.
 */

const MODEL = 'model m { hidden 256 heads 4 ffn 512 layers 2 }\n';

function setup(source: string, files: Record<string, string> = {}) {
  const { program, model, diagnostics } = compile(MODEL + source, {
    fileName: 'init.adapt',
    fuse: false,
    gpu: false,
    readFile: (path) => files[path],
  });
  expect(diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
  return { program: program!, model: model! };
}

function stats(values: Float32Array) {
  const mean = values.reduce((s, v) => s + v, 0) / values.length;
  const variance = values.reduce((s, v) => s + (v - mean) ** 2, 0) / values.length;
  return {
    mean,
    std: Math.sqrt(variance),
    max: values.reduce((m, v) => Math.max(m, Math.abs(v)), 0),
  };
}

/** A normal sample of n: its mean within 4 standard errors of 0, its std within 4 % of `std`. */
function expectNormal(values: Float32Array, std: number) {
  const s = stats(values);
  expect(Math.abs(s.mean)).toBeLessThan((4 * std) / Math.sqrt(values.length));
  expect(Math.abs(s.std / std - 1)).toBeLessThan(0.04);
}

function expectAll(values: Float32Array | undefined, value: number) {
  expect(values).toBeDefined();
  expect(values!.every((v) => v === value)).toBe(true);
}

const names = (program: Program, part: string) =>
  program.weights.map((w) => w.name).filter((n) => n.includes(part));

describe('initialTrainedWeights', () => {
  it("bert init (seq_bn): Linear weights N(0, 0.02²), biases 0, the adapter's tensors only", () => {
    const { program, model } = setup(
      'adapter a { preset seq_bn reduction 2 }\nadapter b { preset seq_bn }',
    );
    const weights = initialTrainedWeights(model, program, { adapter: 'a' }, 7);
    expect([...weights.keys()].sort()).toEqual(names(program, '.adapters.a.').sort());
    const down = weights.get('encoder.layer.0.output.adapters.a.adapter_down.0.weight')!;
    expect(down.length).toBe(128 * 256);
    expectNormal(down, 0.02);
    expectNormal(weights.get('encoder.layer.1.output.adapters.a.adapter_up.weight')!, 0.02);
    expectAll(weights.get('encoder.layer.0.output.adapters.a.adapter_down.0.bias'), 0);
    expectAll(weights.get('encoder.layer.0.output.adapters.a.adapter_up.bias'), 0);
  });

  it('mam_adapter init (par_bn): down U(±1/√fan_in), up all zeros', () => {
    const { program, model } = setup('adapter p { preset par_bn }');
    const weights = initialTrainedWeights(model, program, { adapter: 'p' }, 7);
    const down = weights.get('encoder.layer.0.output.adapters.p.adapter_down.0.weight')!;
    const bound = 1 / Math.sqrt(256);
    const s = stats(down);
    expect(s.max).toBeLessThanOrEqual(bound);
    expect(s.max).toBeGreaterThan(0.99 * bound);
    expect(Math.abs(s.std / (bound / Math.sqrt(3)) - 1)).toBeLessThan(0.04);
    expect(Math.abs(s.mean)).toBeLessThan((4 * bound) / Math.sqrt(3 * down.length));
    expectAll(weights.get('encoder.layer.0.output.adapters.p.adapter_up.weight'), 0);
    expectAll(weights.get('encoder.layer.0.output.adapters.p.adapter_up.bias'), 0);
    expectAll(weights.get('encoder.layer.0.output.adapters.p.adapter_down.0.bias'), 0);
  });

  it('own LayerNorms 1 and 0, a channel scaling of ones, the gate N(0, 0.02²) with a zero bias', () => {
    const { program, model } = setup(
      'adapter g { preset seq_bn reduction 2 ln_before true ln_after true gating true scale channel }',
    );
    const weights = initialTrainedWeights(model, program, { adapter: 'g' }, 3);
    const at = (part: string) => weights.get(`encoder.layer.1.output.adapters.g.${part}`);
    expectAll(at('adapter_norm_before.weight'), 1);
    expectAll(at('adapter_norm_before.bias'), 0);
    expectAll(at('adapter_norm_after.weight'), 1);
    expectAll(at('adapter_norm_after.bias'), 0);
    expectAll(at('scaling'), 1);
    expect(at('scaling')!.length).toBe(256);
    expectNormal(at('adapter_down.1.weight')!, 0.02);
    expectAll(at('gate.bias'), 0);
    expect(stats(at('gate.weight')!).std).toBeGreaterThan(0.01);
  });

  it('houlsby init, read from a saved config: N(0, 0.01²) truncated at ±0.02, the gate as nn.Linear', () => {
    const config = JSON.stringify({
      config: {
        mh_adapter: true,
        output_adapter: true,
        reduction_factor: 2,
        non_linearity: 'swish',
        init_weights: 'houlsby',
        use_gating: true,
      },
      name: 'h',
    });
    const { program, model } = setup('adapter h from "h"', { 'h/adapter_config.json': config });
    const weights = initialTrainedWeights(model, program, { adapter: 'h' }, 5);
    const down = weights.get('encoder.layer.0.attention.output.adapters.h.adapter_down.0.weight')!;
    const s = stats(down);
    expect(s.max).toBeLessThanOrEqual(Math.fround(0.02));
    // The std of N(0, σ²) truncated at ±2σ is 0.8796σ.
    expect(Math.abs(s.std / (0.8796 * 0.01) - 1)).toBeLessThan(0.04);
    expectAll(weights.get('encoder.layer.0.attention.output.adapters.h.adapter_up.bias'), 0);
    const gateBias = weights.get('encoder.layer.0.output.adapters.h.gate.bias')!;
    expect(Math.abs(gateBias[0]!)).toBeLessThanOrEqual(1 / 16);
    expect(gateBias[0]).not.toBe(0);
  });

  it('an article adapter starts where adapt run seeds it', () => {
    const { program, model } = setup('adapter a { bottleneck 16 at ffn init zero_up }');
    const weights = initialTrainedWeights(model, program, { adapter: 'a' }, 11);
    for (const spec of program.weights.filter((w) => w.name.includes('.adapters.a.')))
      expect(weights.get(spec.name)).toEqual(initTensor(spec, 11));
    expectAll(weights.get('encoder.layer.0.output.adapters.a.adapter_up.weight'), 0);
  });

  it('a dynamic fusion: query and key N(0, 0.02²), biases 0, value the identity with 1e-6 off it', () => {
    const { program, model } = setup(
      'adapter a { preset seq_bn }\nadapter b { preset seq_bn }\nfusion f { adapters a, b preset dynamic }\ngraph default = f',
    );
    const weights = initialTrainedWeights(model, program, { fusion: 'f' }, 2);
    expect([...weights.keys()].sort()).toEqual(names(program, '.adapter_fusion_layer.f.').sort());
    const p = 'encoder.layer.0.output.adapter_fusion_layer.f.';
    expectNormal(weights.get(`${p}query.weight`)!, 0.02);
    expectNormal(weights.get(`${p}key.weight`)!, 0.02);
    expectAll(weights.get(`${p}query.bias`), 0);
    const value = weights.get(`${p}value.weight`)!;
    for (let i = 0; i < 256; i++)
      for (let j = 0; j < 256; j++)
        expect(value[i * 256 + j]).toBe(i === j ? 1 : Math.fround(1e-6));
  });

  it('an inline head: N(0, 0.02²) weights and zero biases; a head read from a directory is left out', () => {
    const { program, model } = setup(
      'adapter a { preset seq_bn }\nhead a { type classification labels "x", "y" }',
    );
    const weights = initialTrainedWeights(model, program, { adapter: 'a' }, 9);
    expectNormal(weights.get('heads.a.1.weight')!, 0.02);
    expect(weights.get('heads.a.4.weight')!.length).toBe(2 * 256);
    expectAll(weights.get('heads.a.1.bias'), 0);
    expectAll(weights.get('heads.a.4.bias'), 0);
  });

  it('is the same for one seed and another for another', () => {
    const { program, model } = setup(
      'adapter a { preset seq_bn }\nhead a { type tagging labels "O", "B" }',
    );
    const one = initialTrainedWeights(model, program, { adapter: 'a' }, 1);
    expect(initialTrainedWeights(model, program, { adapter: 'a' }, 1)).toEqual(one);
    const other = initialTrainedWeights(model, program, { adapter: 'a' }, 2);
    const name = 'encoder.layer.0.output.adapters.a.adapter_down.0.weight';
    expect(other.get(name)).not.toEqual(one.get(name));
    expect(other.get('heads.a.1.weight')).not.toEqual(one.get('heads.a.1.weight'));
  });

  it('names what it cannot initialize', () => {
    const { program, model } = setup('adapter a { preset seq_bn }');
    expect(() => initialTrainedWeights(model, program, { adapter: 'z' }, 1)).toThrow(
      "no adapter 'z' in init.adapt",
    );
  });
});
