import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { checkSource } from '../src/compiler/frontend.js';
import { countParams, type ParamReport } from '../src/compiler/params.js';
import { runCli } from './helpers/cli.js';

// Counted by PyTorch's nn.MultiheadAttention, nn.Linear and nn.LayerNorm: param_counts.py.
const torch = JSON.parse(
  readFileSync(new URL('./fixtures/torch/param_counts.json', import.meta.url), 'utf8'),
) as {
  bert_base_layer: { attention: number; ffn: number; layer_norms: number; layer: number };
  adapter_768_64: { down: number; up: number; total: number };
  adapter_768_48: { down: number; up: number; total: number };
  adapter_768_32: { down: number; up: number; total: number };
  fusion_768: number;
  fusion_768_value_identity: number;
};

function report(file: string, graph = 'default') {
  const text = readFileSync(new URL(`../examples/${file}`, import.meta.url), 'utf8');
  const { model } = checkSource(text, file);
  return countParams(model!, graph);
}

describe('adapt params', () => {
  it('counts a BERT-base layer as PyTorch does', () => {
    const { base } = report('bert-base-pfeiffer.adapt');
    expect(base).toEqual({
      attention: torch.bert_base_layer.attention,
      ffn: torch.bert_base_layer.ffn,
      layerNorms: torch.bert_base_layer.layer_norms,
      perLayer: torch.bert_base_layer.layer,
      total: 12 * torch.bert_base_layer.layer,
    });
    expect(base.perLayer).toBe(7_087_872);
    expect(base.total).toBe(85_054_464);
  });

  it('counts a Pfeiffer adapter (r=64 at ffn in 12 layers)', () => {
    const { adapters, totals, layers } = report('bert-base-pfeiffer.adapt');
    expect(adapters).toEqual([
      {
        name: 'sentiment',
        bottleneck: 64,
        perPlacement: torch.adapter_768_64.total,
        placements: 12,
        down: 12 * torch.adapter_768_64.down,
        up: 12 * torch.adapter_768_64.up,
        total: 12 * torch.adapter_768_64.total,
      },
    ]);
    expect(totals.adapters).toBe(1_189_632);
    expect(layers[0]).toEqual({ layer: 0, base: 7_087_872, adapters: 99_136, fusion: 0 });
    expect(totals.adaptersPercentOfBase).toBeCloseTo((100 * 1_189_632) / 85_054_464, 12);
    expect(totals.trainablePercentOfTotal).toBeCloseTo((100 * 1_189_632) / 86_244_096, 12);
  });

  it('counts a Houlsby adapter at both sites, as the seed does per layer (198,272)', () => {
    const { totals, layers } = report('bert-base-houlsby.adapt');
    expect(layers[5]!.adapters).toBe(198_272);
    expect(totals.adapters).toBe(2_379_264);
    expect(totals.total).toBe(87_433_728);
  });

  it('counts fusion per covered site and only the adapters a graph uses', () => {
    const fused = report('bert-base-fusion.adapt');
    expect(fused.fusions).toEqual([
      { name: 'multitask', sites: 12, perSite: torch.fusion_768, total: 12 * torch.fusion_768 },
    ]);
    // sentiment r=64 x12, ner r=48 x12, nli r=64 in 9 layers.
    expect(fused.totals.adapters).toBe(
      12 * torch.adapter_768_64.total +
        12 * torch.adapter_768_48.total +
        9 * torch.adapter_768_64.total,
    );
    expect(fused.totals.trainable).toBe(2_976_384 + 21_261_312);
    const single = report('bert-base-fusion.adapt', 'sentiment_only');
    expect(single.fusions).toEqual([]);
    expect(single.totals.adapters).toBe(1_189_632);
  });

  it('counts a fusion with value identity as two projections', () => {
    const text = `model m { hidden 768 heads 12 ffn 3072 layers 1 }
adapter a { bottleneck 64 at ffn }
adapter b { bottleneck 64 at ffn }
fusion f { adapters a, b value identity }`;
    const { fusions } = countParams(checkSource(text, 't').model!, 'default');
    expect(fusions[0]!.perSite).toBe(torch.fusion_768_value_identity);
  });

  // One adapter module, as PyTorch counts nn.Linear(d, r) + nn.Linear(r, d).
  it.each([
    ['bert-base-pfeiffer.adapt', { sentiment: torch.adapter_768_64.total }],
    ['bert-base-houlsby.adapt', { sentiment: torch.adapter_768_64.total }],
    ['bert-base-parallel.adapt', { par: torch.adapter_768_32.total }],
    [
      'bert-base-fusion.adapt',
      {
        sentiment: torch.adapter_768_64.total,
        ner: torch.adapter_768_48.total,
        nli: torch.adapter_768_64.total,
      },
    ],
    [
      'gpt2-small-adapters.adapt',
      { style: torch.adapter_768_48.total, domain: torch.adapter_768_64.total },
    ],
    ['worked-example.adapt', { example: 2 * 2 * 4 + 2 + 4 }],
  ])('gives the size of one adapter module in %s', (file, expected) => {
    const { adapters } = report(file);
    expect(Object.fromEntries(adapters.map((a) => [a.name, a.perPlacement]))).toEqual(expected);
    const d = file === 'worked-example.adapt' ? 4 : 768;
    for (const a of adapters) {
      const r = a.bottleneck;
      expect(a.perPlacement).toBe(2 * r * d + r + d);
      expect(a.total).toBe(a.placements * a.perPlacement);
      expect(a.down + a.up).toBe(a.total);
    }
  });

  it('prints one module next to the placements and the total', async () => {
    const result = await runCli(['params', 'examples/bert-base-pfeiffer.adapt']);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain(
      '  adapter     r  sites  per placement  placements     down       up      total  of base',
    );
    expect(result.stdout).toMatch(
      /sentiment\s+64\s+ffn\s+99,136\s+12\s+590,592\s+599,040\s+1,189,632\s+1\.40%/,
    );
  });

  it('gives one module in --json as perPlacement', async () => {
    const result = await runCli(['params', 'examples/bert-base-houlsby.adapt', '--json']);
    const json = JSON.parse(result.stdout) as ParamReport;
    expect(json.adapters).toEqual([
      {
        name: 'sentiment',
        bottleneck: 64,
        perPlacement: 99_136,
        placements: 24,
        down: 24 * torch.adapter_768_64.down,
        up: 24 * torch.adapter_768_64.up,
        total: 24 * 99_136,
      },
    ]);
  });
});
