import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readCheckpoint } from '../src/cli/checkpoint-files.js';
import { readSavedWeights } from '../src/cli/saved-weights.js';
import { checkSource } from '../src/compiler/frontend.js';
import { countParams, savedWeightsOf, type Model } from '../src/compiler/index.js';
import type { TensorMap } from '../src/runtime/safetensors.js';
import { runCli } from './helpers/cli.js';

/**
 * `adapt params` on the AdapterHub fixtures (test/fixtures/adapterhub/): the adapters, fusion and
 * head it counts are the tensors the `adapters` library saved in their directories, and the base
 * is the checkpoint's tensors the graph reads.
 */
const ROOT = 'test/fixtures/adapterhub';
const SPECS = join(ROOT, 'specs');

const CASES = (
  JSON.parse(readFileSync(join(ROOT, 'cases.json'), 'utf8')) as { cases: { name: string }[] }
).cases
  .map((c) => c.name)
  .concat(['parallel'])
  .filter((name) => existsSync(join(SPECS, `${name}.adapt`)));

function checkCase(name: string): Model {
  const path = join(SPECS, `${name}.adapt`);
  const { model, diagnostics } = checkSource(readFileSync(path, 'utf8'), path, {
    readFile: (file) => {
      const full = join(SPECS, file);
      return existsSync(full) ? readFileSync(full, 'utf8') : undefined;
    },
  });
  expect(diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
  return model!;
}

const size = (shape: readonly number[]) => shape.reduce((n, d) => n * d, 1);

/**
 * The parameters a saved file holds: every tensor's size, less the LayerNorm that
 * `adapter_down` holds as its module 0 when `ln_before` is set, which PyTorch saves a second
 * time as `adapter_norm_before` (`adapters/src/adapters/methods/modeling.py: Adapter.__init__`).
 */
function savedParameters(tensors: TensorMap, layer?: number): number {
  let count = 0;
  for (const [name, tensor] of tensors) {
    if (layer !== undefined && !name.includes(`layer.${layer}.`)) continue;
    const twin = name.replace(/adapter_down\.0\.(weight|bias)$/, 'adapter_norm_before.$1');
    if (twin !== name && tensors.has(twin)) {
      expect([...tensor.data], name).toEqual([...tensors.get(twin)!.data]);
      continue;
    }
    count += size(tensor.shape);
  }
  return count;
}

/** Each directory the graph reads, by kind: its tensors under the declared names. */
function savedByKind(name: string, model: Model) {
  const path = join(SPECS, `${name}.adapt`);
  const { tensors } = readSavedWeights('.', path, model, 'default');
  return savedWeightsOf(model, 'default').map((saved, i) => ({ ...saved, tensors: tensors[i]! }));
}

describe('adapt params on AdapterHub directories', () => {
  it.each(CASES)('%s: adapters, fusion and head are the saved tensors', (name) => {
    const model = checkCase(name);
    const report = countParams(model, 'default');
    const saved = savedByKind(name, model);
    const ofKind = (kind: string) => saved.filter((s) => s.kind === kind);
    for (const adapter of report.adapters) {
      const file = ofKind('adapter').find((s) => s.name === adapter.name)!;
      expect(adapter.total, adapter.name).toBe(savedParameters(file.tensors));
    }
    expect(report.adapters.map((a) => a.name).sort()).toEqual(
      ofKind('adapter')
        .map((s) => s.name)
        .sort(),
    );
    const sum = (kind: string, layer?: number) =>
      ofKind(kind).reduce((n, s) => n + savedParameters(s.tensors, layer), 0);
    expect(report.totals.adapters).toBe(sum('adapter'));
    expect(report.totals.fusion).toBe(sum('fusion'));
    expect(report.totals.head).toBe(sum('head'));
    expect(report.heads.reduce((n, h) => n + h.total, 0)).toBe(sum('head'));
    expect(report.totals.trainable).toBe(sum('adapter') + sum('fusion') + sum('head'));
    for (const layer of report.layers) {
      expect(layer.adapters, `layer ${layer.layer}`).toBe(sum('adapter', layer.layer));
      expect(layer.fusion, `layer ${layer.layer}`).toBe(sum('fusion', layer.layer));
    }
  });

  it.each(CASES)("%s: the base is the checkpoint's tensors the graph reads", (name) => {
    const model = checkCase(name);
    const report = countParams(model, 'default');
    const path = join(SPECS, `${name}.adapt`);
    const stored = readCheckpoint('.', path, model.base.checkpoint!.dir, { tokenizer: false })
      .weights.tensors;
    // The checkpoints are bare encoders (no head of their own) that hold BERT's pooler, which
    // only a head with use_pooler reads.
    expect(model.base.checkpoint!.head).toBeUndefined();
    const readsPooler = report.base.checkpoint!.replacedBy?.usesPooler === true;
    let count = 0;
    for (const [tensor, value] of stored) {
      if (tensor.endsWith('embeddings.position_ids')) continue;
      if (/(^|\.)pooler\./.test(tensor) && !readsPooler) continue;
      count += size(value.shape);
    }
    expect(report.base.total).toBe(count);
    expect(report.totals.total).toBe(count + report.totals.trainable);
  });

  it('counts per-layer bottlenecks, the own LayerNorms, a channel scaling and the gate', () => {
    const d = 32;
    const layered = countParams(checkCase('seq-bn-per-layer'), 'default').adapters[0]!;
    // reduction_factor {"0": 4, "default": 8}: r = 8 in layer 0, 4 in layer 1.
    expect(layered).toMatchObject({ bottleneck: 8, layerBottlenecks: { 1: 4 }, placements: 2 });
    expect(layered.total).toBe(2 * 8 * d + 8 + d + (2 * 4 * d + 4 + d));
    expect(layered.extras).toBeUndefined();
    const gated = countParams(checkCase('bn-gated'), 'default');
    // leave_out [1]: layer 0 only, r = 4; ln_before and ln_after, scaling "channel", a gate.
    expect(gated.adapters[0]!.extras).toEqual({ layerNorms: 4 * d, scaling: d, gate: d + 1 });
    expect(gated.adapters[0]!.perPlacement).toBe(2 * 4 * d + 4 + d + 4 * d + d + d + 1);
    // Two Linear layers: d → d, then d → 2 labels with a bias; BERT's pooler read.
    expect(gated.heads[0]).toEqual({
      name: 'gated',
      type: 'multilabel_classification',
      layers: 2,
      labels: 2,
      total: (d + 1) * d + (d + 1) * 2,
    });
    expect(gated.base.checkpoint!.head).toBe(d * d + d);
    const learned = countParams(checkCase('houlsby-learned'), 'default').adapters[0]!;
    expect(learned.extras).toEqual({ layerNorms: 0, scaling: learned.placements, gate: 0 });
  });

  it("counts AdapterHub's fusion: query and key with biases, value without", () => {
    const d = 32;
    const [fusion] = countParams(checkCase('fusion'), 'default').fusions;
    expect(fusion).toEqual({
      name: 'abc',
      sites: 2,
      perSite: 3 * d * d + 2 * d,
      total: 2 * (3 * d * d + 2 * d),
    });
  });

  it('prints the per-layer r, the extras column, the head and its pooler', async () => {
    const layered = await runCli(['params', join(SPECS, 'seq-bn-per-layer.adapt')]);
    expect(layered.code).toBe(0);
    expect(layered.stdout).toMatch(
      /\n {2}layered\s+8 \(L1: 4\)\s+ffn\s+552\s+2\s+396\s+448\s+844\s/,
    );
    expect(layered.stdout).not.toContain('norms, scaling, gate');
    const gated = await runCli(['params', join(SPECS, 'bn-gated.adapt')]);
    expect(gated.code).toBe(0);
    expect(gated.stdout).toContain(', with its embeddings and AdapterHub head gated\n');
    expect(gated.stdout).toMatch(/\n {2}pooler \(pooler\.dense, read by head gated\)\s+1,056\n/);
    expect(gated.stdout).toMatch(/\n {2}gated\s+4\s+ffn\s+485\s+1\s+132\s+160\s+193\s+485\s/);
    expect(gated.stdout).toMatch(/\n {2}gated\s+multilabel_classification\s+2\s+2\s+1,122\n/);
    expect(gated.stdout).toMatch(/\n {2}head\s+1,122\n/);
    expect(gated.stdout).toMatch(/\n {2}trainable\s+1,607\s/);
  });
});
