import { cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadSafetensors, saveSafetensors } from '../src/runtime/safetensors.js';
import { repoRoot, runCli } from './helpers/cli.js';

/** `adapt run` on AdapterHub directories: the weights come from them, named as declared. */
const ROOT = 'test/fixtures/adapterhub';

/** A copy of the fixtures to break, with one spec reading `seq-bn-head/sentiment`. */
function scratch(): string {
  const dir = mkdtempSync(join(tmpdir(), 'adapt-hub-'));
  for (const part of ['bert-tiny', 'seq-bn-head', 'double-seq-bn-bin'])
    cpSync(join(repoRoot, ROOT, part), join(dir, part), { recursive: true });
  writeFileSync(
    join(dir, 'spec.adapt'),
    'model m from "bert-tiny"\nadapter s from "seq-bn-head/sentiment"\n',
  );
  return dir;
}

describe('adapt run on AdapterHub directories', () => {
  it('runs a seq_bn adapter with its head, and --check agrees with the CPU reference', async () => {
    const result = await runCli([
      'run',
      `${ROOT}/specs/seq-bn-head.adapt`,
      '--input',
      `${ROOT}/seq-bn-head.expected.safetensors`,
      '--backend',
      'cpu',
      '--check',
    ]);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain(`${ROOT}/seq-bn-head/sentiment/adapter.safetensors`);
    expect(result.stdout).toContain(`${ROOT}/seq-bn-head/sentiment-head/model_head.safetensors`);
    expect(result.stdout).toMatch(/check +relative error vs the CPU reference 0\.00e\+0/);
  });

  it('writes the outputs PyTorch computed', async () => {
    const out = join(mkdtempSync(join(tmpdir(), 'adapt-hub-out-')), 'out.safetensors');
    const result = await runCli([
      'run',
      `${ROOT}/specs/seq-bn-head.adapt`,
      '--input',
      `${ROOT}/seq-bn-head.expected.safetensors`,
      '--backend',
      'cpu',
      '--output',
      out,
    ]);
    expect(result.code).toBe(0);
    const got = loadSafetensors(readFileSync(out));
    const want = loadSafetensors(readFileSync(`${ROOT}/seq-bn-head.expected.safetensors`));
    for (const name of ['last_hidden_state', 'logits']) {
      const a = Array.from(got.get(name)!.data);
      const b = Array.from(want.get(name)!.data);
      expect(a.length).toBe(b.length);
      expect(a.reduce((m, v, i) => Math.max(m, Math.abs(v - b[i]!)), 0)).toBeLessThan(1e-4);
    }
  });

  it("takes text and gives the AdapterHub head's labels, softmax over its logits", async () => {
    const dir = scratch();
    // bert-tiny's 40 ids are the first of this tokenizer's vocabulary.
    for (const file of ['tokenizer.json', 'tokenizer_config.json'])
      cpSync(join(repoRoot, 'test/fixtures/hf/bert-seq-cls', file), join(dir, 'bert-tiny', file));
    writeFileSync(
      join(dir, 'spec.adapt'),
      'model m from "bert-tiny"\nadapter sentiment from "seq-bn-head/sentiment"\nhead sentiment from "seq-bn-head/sentiment-head"\n',
    );
    const result = await runCli(
      ['run', 'spec.adapt', '--text', 'a b', '--json', '--top-k', '3', '--backend', 'cpu'],
      dir,
    );
    expect(result.code).toBe(0);
    const report = JSON.parse(result.stdout) as {
      texts: { ids: number[]; labels: { label: string; score: number }[] }[];
    };
    const [text] = report.texts;
    expect(text!.labels.map((l) => l.label).sort()).toEqual(['neg', 'neu', 'pos']);
    const ids = Int32Array.from(text!.ids);
    writeFileSync(
      join(dir, 'ids.safetensors'),
      saveSafetensors({ input_ids: { shape: [1, ids.length], data: ids } }),
    );
    const tensors = await runCli(
      [
        'run',
        'spec.adapt',
        '--input',
        'ids.safetensors',
        '--backend',
        'cpu',
        '--output',
        'out.safetensors',
      ],
      dir,
    );
    expect(tensors.code).toBe(0);
    const logits = [
      ...loadSafetensors(readFileSync(join(dir, 'out.safetensors'))).get('logits')!.data,
    ];
    const exp = logits.map((v) => Math.exp(v - Math.max(...logits)));
    const softmax = exp.map((v) => v / exp.reduce((a, b) => a + b, 0));
    for (const { label, score } of text!.labels)
      expect(Math.abs(score - softmax[['neg', 'neu', 'pos'].indexOf(label)]!)).toBeLessThan(1e-6);
  });

  it('refuses a directory with both a safetensors and a .bin weights file', async () => {
    const dir = scratch();
    cpSync(
      join(dir, 'double-seq-bn-bin/houlsby/pytorch_adapter.bin'),
      join(dir, 'seq-bn-head/sentiment/pytorch_adapter.bin'),
    );
    const result = await runCli(['run', 'spec.adapt', '--backend', 'cpu'], dir);
    expect(result.code).toBe(1);
    expect(result.stderr.trim()).toBe(
      'seq-bn-head/sentiment: error: holds both adapter.safetensors and pytorch_adapter.bin; keep the one the adapter was saved as',
    );
  });

  it('refuses a weights file with tensors of another adapter', async () => {
    const dir = scratch();
    const file = join(dir, 'seq-bn-head/sentiment/adapter.safetensors');
    const tensors = loadSafetensors(readFileSync(file));
    const renamed = Object.fromEntries(
      [...tensors].map(([name, t]) => [
        name.replace('.sentiment.', '.other.'),
        { shape: t.shape, data: Float32Array.from(t.data) },
      ]),
    );
    writeFileSync(file, saveSafetensors(renamed));
    const result = await runCli(['run', 'spec.adapt', '--backend', 'cpu'], dir);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(
      /^seq-bn-head\/sentiment\/adapter\.safetensors: error: 8 tensors are not of adapter 'sentiment' \(no '\.adapters\.sentiment\.' in the names\)/,
    );
  });

  it('says which directory has no weights', async () => {
    const dir = scratch();
    writeFileSync(join(dir, 'seq-bn-head/sentiment/adapter.safetensors'), '');
    const result = await runCli(['run', 'spec.adapt', '--backend', 'cpu'], dir);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/^seq-bn-head\/sentiment\/adapter\.safetensors: error: /);
    expect(result.stderr).not.toMatch(/\n {4}at /);
  });
});
