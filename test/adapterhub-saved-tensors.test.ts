import { describe, expect, it } from 'vitest';
import { renameSavedTensors } from '../src/runtime/adapterhub/saved-tensors.js';
import { WeightError } from '../src/runtime/errors.js';
import type { Tensor, TensorMap } from '../src/runtime/safetensors.js';

const tensor = (...values: number[]): Tensor => ({
  dtype: 'F32',
  shape: [values.length],
  data: Float32Array.from(values),
});

const P = 'bert.encoder.layer.0.output.adapters';

describe('renameSavedTensors', () => {
  it('renames the saved module to the declared one, the model prefix kept', () => {
    const file: TensorMap = new Map([[`${P}.sst.adapter_up.bias`, tensor(1, 2)]]);
    const renamed = renameSavedTensors(file, 'adapter', 'sst', 'sentiment', 'a.safetensors');
    expect([...renamed.keys()]).toEqual([`${P}.sentiment.adapter_up.bias`]);
    expect([...renamed.values()][0]!.data).toEqual(Float32Array.from([1, 2]));
  });

  it('renames heads and fusions', () => {
    const head = renameSavedTensors(
      new Map([['heads.sst.1.weight', tensor(1)]]),
      'head',
      'sst',
      'h',
      'f',
    );
    expect([...head.keys()]).toEqual(['heads.h.1.weight']);
    const fusion = renameSavedTensors(
      new Map([['bert.encoder.layer.1.output.adapter_fusion_layer.a,b.query.bias', tensor(1)]]),
      'fusion',
      'a,b',
      'ab',
      'f',
    );
    expect([...fusion.keys()]).toEqual([
      'bert.encoder.layer.1.output.adapter_fusion_layer.ab.query.bias',
    ]);
  });

  it('refuses tensors of another module, naming the file', () => {
    const file: TensorMap = new Map([
      [`${P}.sst.adapter_up.bias`, tensor(1)],
      [`${P}.other.adapter_up.bias`, tensor(1)],
    ]);
    expect(() => renameSavedTensors(file, 'adapter', 'sst', 's', 'x/adapter.safetensors')).toThrow(
      new WeightError([
        `x/adapter.safetensors: 1 tensor is not of adapter 'sst' (no '.adapters.sst.' in the name): '${P}.other.adapter_up.bias'`,
      ]),
    );
  });

  it("drops the twin of ln_before's LayerNorm, which the library saves twice", () => {
    const file: TensorMap = new Map([
      [`${P}.g.adapter_norm_before.weight`, tensor(1, 2)],
      [`${P}.g.adapter_down.0.weight`, tensor(1, 2)],
      [`${P}.g.adapter_down.1.weight`, tensor(3, 4)],
    ]);
    const renamed = renameSavedTensors(file, 'adapter', 'g', 'g', 'f');
    expect([...renamed.keys()]).toEqual([
      `${P}.g.adapter_norm_before.weight`,
      `${P}.g.adapter_down.1.weight`,
    ]);
  });

  it('refuses a twin that differs from the LayerNorm it stands for', () => {
    const file: TensorMap = new Map([
      [`${P}.g.adapter_norm_before.bias`, tensor(1, 2)],
      [`${P}.g.adapter_down.0.bias`, tensor(1, 5)],
      [`${P}.g.adapter_down.1.weight`, tensor(3, 4)],
    ]);
    expect(() => renameSavedTensors(file, 'adapter', 'g', 'g', 'f')).toThrow(
      "f: tensor 'bert.encoder.layer.0.output.adapters.g.adapter_down.0.bias' must equal 'bert.encoder.layer.0.output.adapters.g.adapter_norm_before.bias' (the same LayerNorm, saved twice), but differs",
    );
  });
});
