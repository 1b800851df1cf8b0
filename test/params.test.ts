import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readCheckpointWeights } from '../src/cli/checkpoint-files.js';
import { checkSource } from '../src/compiler/frontend.js';
import { countParams, type ParamReport } from '../src/compiler/params.js';
import { loadSafetensors, type TensorMap } from '../src/runtime/safetensors.js';
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

describe('adapt params on a checkpoint (test/fixtures/hf/)', () => {
  const FIXTURES = 'test/fixtures/hf';
  const CHECKPOINTS = [
    'bert-seq-cls',
    'roberta-seq-cls',
    'distilbert-token-cls',
    'distilbert-seq-cls',
    'gpt2-lm',
  ];

  /** Every tensor of a checkpoint directory, whole or sharded, as Hugging Face saved it. */
  function checkpointTensors(dir: string): TensorMap {
    return readCheckpointWeights('.', join(FIXTURES, dir)).tensors;
  }

  /** The parameters a file holds: every tensor's size, less the buffers PyTorch saves beside them. */
  function parameterCount(tensors: TensorMap): number {
    let count = 0;
    for (const [name, tensor] of tensors) {
      if (name.endsWith('embeddings.position_ids')) continue;
      expect(tensor.dtype, name).toBe('F32');
      count += tensor.shape.reduce((n, d) => n * d, 1);
    }
    return count;
  }

  function checkpointReport(spec: string, fileName = join(FIXTURES, 'spec.adapt')) {
    const readFile = (path: string) => {
      const file = join(FIXTURES, path);
      return existsSync(file) ? readFileSync(file, 'utf8') : undefined;
    };
    const { model, diagnostics } = checkSource(spec, fileName, { readFile });
    expect(diagnostics).toEqual([]);
    return countParams(model!, 'default');
  }

  it.each(CHECKPOINTS)(
    "%s: the base is the checkpoint's tensor count (its buffers left out)",
    (dir) => {
      const report = checkpointReport(`model tiny from "${dir}"\n`);
      const tensors = checkpointTensors(dir);
      expect(report.base.total).toBe(parameterCount(tensors));
      expect(report.totals.total).toBe(parameterCount(tensors));
      const { embeddings, finalLayerNorm, head, total } = report.base.checkpoint!;
      expect(embeddings + finalLayerNorm + head).toBe(total);
      expect(report.base.perLayer * report.layers.length + total).toBe(report.base.total);
      // The embedding tables and LayerNorm, counted from the file.
      const embeddingTensors = [...tensors].filter(([name]) =>
        /(^|\.)(embeddings\.(word|position|token_type)_embeddings|embeddings\.LayerNorm|wte|wpe)\./.test(
          name,
        ),
      );
      expect(embeddings).toBe(parameterCount(new Map(embeddingTensors)));
    },
  );

  it.each(['pfeiffer', 'fusion'])(
    'bert-seq-cls.%s: adapters and fusion are the adapter file, the base the checkpoint',
    (kind) => {
      const spec = readFileSync(join(FIXTURES, `bert-seq-cls.${kind}.adapt`), 'utf8');
      const report = checkpointReport(spec);
      const adapters = loadSafetensors(
        readFileSync(join(FIXTURES, `bert-seq-cls.${kind}.adapters.safetensors`)),
      );
      expect(report.totals.trainable).toBe(parameterCount(adapters));
      expect(report.totals.base).toBe(parameterCount(checkpointTensors('bert-seq-cls')));
      expect(report.totals.total).toBe(report.totals.base + parameterCount(adapters));
    },
  );

  it('prints the embeddings, the head and a base that adds up', async () => {
    const result = await runCli(['params', join(FIXTURES, 'bert-seq-cls.pfeiffer.adapt')]);
    expect(result.code).toBe(0);
    const base = parameterCount(checkpointTensors('bert-seq-cls'));
    expect(result.stdout).toContain(
      "tiny, graph 'default': 2 layers of the bert checkpoint bert-seq-cls, with its embeddings and head\n",
    );
    expect(result.stdout).not.toContain('no embeddings');
    // d = 32, ffn = 64: 4d² + 4d + 2·d·ffn + ffn + d + 4d per layer.
    const layers = 2 * (4 * 32 * 32 + 4 * 32 + 2 * 32 * 64 + 64 + 32 + 4 * 32);
    expect(result.stdout).toMatch(/\n {2}2 layers\s+17,088\n/);
    expect(result.stdout).toMatch(
      /\n {2}embeddings \(word, position, token type, LayerNorm\)\s+2,560\n/,
    );
    expect(result.stdout).toMatch(/\n {2}head \(pooler\.dense, classifier\)\s+1,155\n/);
    expect(layers + 2_560 + 1_155).toBe(base);
    expect(result.stdout).toMatch(new RegExp(`\\n  in all\\s+${base.toLocaleString('en-US')}\\n`));
    expect(result.stdout).toMatch(
      new RegExp(`\\n  base \\(frozen\\)\\s+${base.toLocaleString('en-US')}\\s*\\n`),
    );
  });

  it("prints GPT-2's final LayerNorm and its head tied to wte", async () => {
    const tmp = mkdtempSync(join(tmpdir(), 'adaptc-params-'));
    try {
      const spec = join(tmp, 'gpt2.adapt');
      writeFileSync(spec, `model g from "${resolve(FIXTURES, 'gpt2-lm')}"\n`);
      const result = await runCli(['params', spec]);
      expect(result.code).toBe(0);
      expect(result.stdout).toContain(', with its embeddings, final LayerNorm and head\n');
      expect(result.stdout).toMatch(/\n {2}embeddings \(word, position\)\s+1,376\n/);
      expect(result.stdout).toMatch(/\n {2}final LayerNorm \(ln_f\)\s+32\n/);
      expect(result.stdout).toMatch(/\n {2}head \(tied to wte\.weight\)\s+0\n/);
      const base = parameterCount(checkpointTensors('gpt2-lm'));
      expect(result.stdout).toMatch(
        new RegExp(`\\n  total\\s+${base.toLocaleString('en-US')}\\s*\\n`),
      );
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  });
});
