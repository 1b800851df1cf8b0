import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect } from 'vitest';
import { specSource, writeServeFixture } from '../../bench/serve/fixture.js';
import { TINY } from '../../bench/serve/shape.js';
import { compile } from '../../src/compiler/index.js';
import { specFileReader } from '../../src/cli/load-model.js';
import { maxTokens } from '../../src/runtime/inputs.js';
import { saveSafetensors, loadSafetensors, type TensorMap } from '../../src/runtime/safetensors.js';
import { loadTokenizer } from '../../src/runtime/text/tokenizer.js';
import { readFileSync } from 'node:fs';
import { repoRoot } from '../helpers/cli.js';
import { gpuIt } from '../helpers/gpu.js';
import { call, classify, logitError, referenceLogits, SENTENCES, serve } from './serve-helpers.js';

/** A graph of its own (a stack) served by name, and a token-classification checkpoint's head. */
const fixture = writeServeFixture(repoRoot, { shape: TINY, adapters: 2, specs: [2], seed: 51 });
const scratch = mkdtempSync(join(tmpdir(), 'adaptc-serve-tagging-'));
afterAll(() => {
  fixture.remove();
  rmSync(scratch, { recursive: true, force: true });
});

/** Seeded values in ±0.1, never zero. */
function seeded(count: number, seed: number): Float32Array {
  let state = seed >>> 0 || 1;
  return Float32Array.from({ length: count }, () => {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    return (((state >>> 0) / 2 ** 32) * 2 - 1) * 0.1 + 1e-3;
  });
}

describe('adapt serve, graphs and tagging', () => {
  gpuIt('serves a graph that is a stack as a program of its own', async () => {
    const spec = join(fixture.dir, 'stacked.adapt');
    writeFileSync(spec, `${specSource(2)}graph both = stack(a0, a1)\n`);
    const expected = await referenceLogits(spec, 'stack(a0, a1)', SENTENCES);
    const serving = await serve(spec);
    try {
      const { url } = serving.server;
      const models = (await call(url, 'GET', '/v1/models')).json() as { graphs: unknown[] };
      expect(models.graphs).toEqual([
        { name: 'default', adapter: 'a0' },
        { name: 'both', program: 'graph both' },
      ]);
      const replies = await Promise.all(
        SENTENCES.map((s) => call(url, 'POST', '/v1/classify', { graph: 'both', texts: [s] })),
      );
      replies.forEach((reply, i) => {
        expect(reply.status, reply.text).toBe(200);
        const [result] = (reply.json() as { results: { logits: number[] }[] }).results;
        expect(logitError(result!.logits, expected[i]!)).toBeLessThan(1e-4);
      });
    } finally {
      await serving.stop();
    }
  });

  gpuIt('answers per token through a token-classification checkpoint, adapters mixed', async () => {
    const checkpoint = join(repoRoot, 'test/fixtures/hf/distilbert-token-cls');
    const spec = join(scratch, 'tagging.adapt');
    writeFileSync(
      spec,
      [
        `model tagger from "${checkpoint}"`,
        'adapter t0 { bottleneck 4 at ffn }',
        'adapter t1 { bottleneck 4 at ffn }',
        'graph default = t0',
        '',
      ].join('\n'),
    );
    const readFile = specFileReader(repoRoot, spec);
    const { program } = compile(`${readFileSync(spec, 'utf8')}graph both = stack(t0, t1)\n`, {
      fileName: spec,
      readFile,
      graph: 'both',
      gpu: false,
    });
    const adapterWeights = program!.weights.filter((w) => w.name.includes('.adapters.'));
    expect(adapterWeights.length).toBeGreaterThan(0);
    const file = join(scratch, 'adapters.safetensors');
    writeFileSync(
      file,
      saveSafetensors(
        Object.fromEntries(
          adapterWeights.map((w, i) => [
            w.name,
            {
              shape: w.shape,
              data: seeded(
                w.shape.reduce((a, b) => a * b, 1),
                7 + i,
              ),
            },
          ]),
        ),
      ),
    );
    const given: TensorMap[] = [loadSafetensors(readFileSync(file))];
    const texts = ['Alice lives in Paris', 'Bob went to Berlin with Carol'];
    const expected = {
      t0: await referenceLogits(spec, 't0', texts, given),
      t1: await referenceLogits(spec, 't1', texts, given),
    };
    const tokenizer = loadTokenizer(readFileSync(join(checkpoint, 'tokenizer.json'), 'utf8'));
    const serving = await serve(spec, { weights: [file] });
    try {
      const { url } = serving.server;
      const replies = await Promise.all(
        [0, 1, 2, 3].map((i) => classify(url, i % 2 ? 't1' : 't0', [texts[i % 2]!])),
      );
      replies.forEach((reply, i) => {
        expect(reply.status, reply.text).toBe(200);
        const adapter = i % 2 ? 't1' : 't0';
        const text = texts[i % 2]!;
        const encoded = tokenizer.encodeBatch([text], {
          maxLength: maxTokens(program!.model.text!),
        });
        const words = encoded.words[0]!;
        const positions = words.flatMap((w, t) => (w === null ? [] : [t]));
        const [result] = (
          reply.json() as { results: { tokens: { logits: number[]; label: string }[] }[] }
        ).results;
        expect(result!.tokens).toHaveLength(positions.length);
        const labels = 5;
        result!.tokens.forEach((token, j) => {
          const t = positions[j]!;
          const row = expected[adapter][i % 2]!.subarray(t * labels, (t + 1) * labels);
          expect(logitError(token.logits, row)).toBeLessThan(1e-4);
          expect(['O', 'B-PER', 'I-PER', 'B-LOC', 'I-LOC']).toContain(token.label);
        });
      });
    } finally {
      await serving.stop();
    }
  });
});
