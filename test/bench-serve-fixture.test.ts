import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { adapterTensors, headTensors } from '../bench/serve/adapters.js';
import { bertTensors, tokenizerVocabSize } from '../bench/serve/checkpoint.js';
import { writeServeFixture } from '../bench/serve/fixture.js';
import { bottleneck, TINY } from '../bench/serve/shape.js';
import { loadSafetensors } from '../src/runtime/safetensors.js';
import { repoRoot, runCli } from './helpers/cli.js';

/** The serving load test's fixture writer, at the fixtures' sizes. */
const fixture = writeServeFixture(repoRoot, { shape: TINY, adapters: 4, specs: [1, 4], seed: 3 });
afterAll(() => fixture.remove());

const tensorsOf = (file: string) => loadSafetensors(readFileSync(join(fixture.dir, file)));

describe('the serving load test fixture', () => {
  it('writes specs that adapt check accepts', async () => {
    const result = await runCli(['check', ...fixture.specs.values()]);
    expect(result.code).toBe(0);
    // The adapters past a0 are in no graph of the spec: the server serves them, not a graph.
    expect(result.stderr).not.toContain('error');
    expect(result.stderr.match(/warning\[W0409\]/g)).toHaveLength(3);
  });

  it('writes every tensor of the plans, seeded and nonzero, with LayerNorm at 1 and 0', () => {
    const model = tensorsOf('bert/model.safetensors');
    const plan = bertTensors(TINY, tokenizerVocabSize(repoRoot));
    expect([...model.keys()].sort()).toEqual(plan.map(([name]) => name).sort());
    const query = model.get('bert.encoder.layer.1.attention.self.query.weight')!;
    expect(query.shape).toEqual([TINY.hidden, TINY.hidden]);
    const values = Array.from(query.data);
    const std = Math.sqrt(values.reduce((s, x) => s + x * x, 0) / values.length);
    expect(std).toBeGreaterThan(0.015);
    expect(std).toBeLessThan(0.025);
    expect(Array.from(model.get('bert.embeddings.LayerNorm.weight')!.data)).toEqual(
      new Array(TINY.hidden).fill(1),
    );
    expect(Array.from(model.get('bert.encoder.layer.0.output.LayerNorm.bias')!.data)).toEqual(
      new Array(TINY.hidden).fill(0),
    );

    const a2 = tensorsOf('adapters/a2/adapter.safetensors');
    expect([...a2.keys()].sort()).toEqual(
      adapterTensors('a2', TINY)
        .map(([n]) => n)
        .sort(),
    );
    const down = a2.get('bert.encoder.layer.0.output.adapters.a2.adapter_down.0.bias')!;
    expect(down.shape).toEqual([bottleneck(TINY)]);
    expect(Array.from(down.data).every((x) => x !== 0)).toBe(true);
    const head = tensorsOf('heads/a2/model_head.safetensors');
    expect([...head.keys()].sort()).toEqual(
      headTensors('a2', TINY)
        .map(([n]) => n)
        .sort(),
    );
  });

  it('gives each adapter weights of its own', () => {
    const name = (i: number) => `bert.encoder.layer.0.output.adapters.a${i}.adapter_up.weight`;
    const first = tensorsOf('adapters/a0/adapter.safetensors').get(name(0))!.data;
    const second = tensorsOf('adapters/a1/adapter.safetensors').get(name(1))!.data;
    expect(first.length).toBe(second.length);
    expect(first.some((x, i) => x !== second[i])).toBe(true);
  });

  it('runs: the adapters and heads load under their declared names, one of its three labels', async () => {
    const spec = join(fixture.dir, 'serve-4-a3.adapt');
    writeFileSync(spec, `${readFileSync(fixture.specs.get(4)!, 'utf8')}graph last = a3\n`);
    const result = await runCli([
      'run',
      spec,
      '--graph',
      'last',
      '--backend',
      'cpu',
      '--text',
      'The movie was great, I loved this film.',
      '--json',
    ]);
    expect(result.code).toBe(0);
    const summary = JSON.parse(result.stdout) as {
      weights: string[];
      texts: { labels: { label: string; score: number }[] }[];
    };
    expect(summary.weights.map((w) => w.slice(fixture.dir.length + 1))).toEqual([
      'bert/model.safetensors',
      'adapters/a3/adapter.safetensors',
      'heads/a3/model_head.safetensors',
    ]);
    const [best] = summary.texts[0]!.labels;
    expect(TINY.labels).toContain(best!.label);
    expect(best!.score).toBeGreaterThan(1 / 3);
    expect(best!.score).toBeLessThan(1);
  });

  it('removes its directory', () => {
    const other = writeServeFixture(repoRoot, { shape: TINY, adapters: 1, specs: [1], seed: 4 });
    expect(existsSync(other.dir)).toBe(true);
    other.remove();
    expect(existsSync(other.dir)).toBe(false);
  });
});
