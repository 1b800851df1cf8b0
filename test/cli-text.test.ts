import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadSafetensors } from '../src/runtime/safetensors.js';
import { runCli } from './helpers/cli.js';
import { gpuIt } from './helpers/gpu.js';

const fixtures = 'test/fixtures/hf';
const dir = mkdtempSync(join(tmpdir(), 'adapt-text-'));

interface FixtureText {
  readonly text: string;
  readonly ids: readonly number[];
  readonly label?: string;
  readonly scores?: Readonly<Record<string, number>>;
  /** One label per token, special tokens included. */
  readonly token_labels?: readonly string[];
  readonly next_token?: string;
}

interface FixtureCase {
  readonly name: string;
  readonly head: string;
  readonly texts: readonly FixtureText[];
}

const cases = (
  JSON.parse(readFileSync(`${fixtures}/cases.json`, 'utf8')) as {
    checkpoints: FixtureCase[];
  }
).checkpoints;

interface JsonText {
  readonly text: string;
  readonly tokens: readonly string[];
  readonly ids: readonly number[];
  readonly labels?: readonly { label: string; score: number }[];
  readonly words?: readonly { word: string; label: string; score: number }[];
  readonly next?: readonly { token: string; id: number; score: number }[];
}

async function classify(name: string, texts: readonly string[], backend: string) {
  const args = texts.flatMap((text) => ['--text', text]);
  const result = await runCli([
    'run',
    `${fixtures}/specs/${name}.adapt`,
    ...args,
    '--top-k',
    '10',
    '--json',
    '--backend',
    backend,
  ]);
  expect(result.stderr).toBe('');
  expect(result.code).toBe(0);
  return (JSON.parse(result.stdout) as { texts: JsonText[] }).texts;
}

/** What PyTorch's fixture says of each text, against what the CLI printed. */
function expectFixture(fixture: FixtureCase, got: readonly JsonText[]): void {
  fixture.texts.forEach((expected, i) => {
    const result = got[i]!;
    expect(result.ids).toEqual(expected.ids);
    if (expected.scores) {
      const scores = Object.fromEntries(result.labels!.map((l) => [l.label, l.score]));
      for (const [label, score] of Object.entries(expected.scores))
        expect(Math.abs(scores[label]! - score), `${expected.text}: ${label}`).toBeLessThan(1e-5);
    }
    if (expected.label) expect(result.labels![0]!.label).toBe(expected.label);
    if (expected.token_labels) {
      // Each word takes the label of its first token.
      const firstTokens = result.tokens.flatMap((token, t) =>
        t === 0 || t === result.tokens.length - 1 || token.startsWith('##') ? [] : [t],
      );
      expect(result.words!.map((w) => w.label)).toEqual(
        firstTokens.map((t) => expected.token_labels![t]),
      );
    }
    if (expected.next_token) expect(result.next![0]!.token).toBe(expected.next_token);
  });
}

describe('adapt run --text', () => {
  for (const fixture of cases) {
    it(`${fixture.name}: labels and scores as PyTorch's, on the CPU reference`, async () => {
      const texts = fixture.texts.map((t) => t.text);
      expectFixture(fixture, await classify(fixture.name, texts, 'cpu'));
    });
    gpuIt(`${fixture.name}: labels and scores as PyTorch's, on WebGPU`, async () => {
      const texts = fixture.texts.map((t) => t.text);
      expectFixture(fixture, await classify(fixture.name, texts, 'webgpu'));
    });
  }

  it('prints the top label per text, --top-k more', async () => {
    const spec = `${fixtures}/specs/bert-seq-cls.adapt`;
    const one = await runCli(['run', spec, '--text', 'The movie was great!', '--backend', 'cpu']);
    expect(one.code).toBe(0);
    expect(one.stdout.startsWith('"The movie was great!"\n  negative  0.5201\n')).toBe(true);
    const two = await runCli([
      'run',
      spec,
      '--text',
      'Hello world',
      '--top-k',
      '2',
      '--backend',
      'cpu',
    ]);
    expect(two.stdout.startsWith('"Hello world"\n  neutral  0.6089\n  negative  0.3335\n')).toBe(
      true,
    );
  });

  it('reads --text-file one text a line and writes ids and outputs with --output', async () => {
    const texts = join(dir, 'texts.txt');
    writeFileSync(texts, 'The movie was great!\n\nHello world\n');
    const output = join(dir, 'out.safetensors');
    const result = await runCli([
      'run',
      `${fixtures}/specs/bert-seq-cls.adapt`,
      '--text-file',
      texts,
      '--output',
      output,
      '--backend',
      'cpu',
    ]);
    expect(result.code).toBe(0);
    const written = loadSafetensors(readFileSync(output));
    expect([...written.keys()].sort()).toEqual([
      'attention_mask',
      'input_ids',
      'last_hidden_state',
      'logits',
      'token_type_ids',
    ]);
    expect(written.get('input_ids')!.shape).toEqual([2, 7]);
    expect([...written.get('input_ids')!.data]).toEqual([
      2, 10, 11, 12, 13, 5, 3, 2, 14, 15, 3, 0, 0, 0,
    ]);
    expect([...written.get('attention_mask')!.data]).toEqual([
      1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0,
    ]);
    expect(written.get('logits')!.shape).toEqual([2, 3]);
    expect(written.get('last_hidden_state')!.shape).toEqual([2, 7, 32]);
  });

  it('refuses --text where the model reads hidden states, and --text with --input', async () => {
    const hidden = await runCli(['run', 'examples/worked-example.adapt', '--text', 'hi']);
    expect(hidden.code).toBe(1);
    expect(hidden.stderr).toBe(
      'examples/worked-example.adapt: error: --text needs a model read from a checkpoint (model NAME from "DIR"); this one reads hidden states\n',
    );
    const both = await runCli([
      'run',
      `${fixtures}/specs/bert-seq-cls.adapt`,
      '--text',
      'hi',
      '--input',
      `${fixtures}/bert-seq-cls.expected.safetensors`,
      '--backend',
      'cpu',
    ]);
    expect(both.code).toBe(1);
    expect(both.stderr).toContain('give --text or --input, not both');
  });

  it('reads token ids from --input instead of text', async () => {
    const result = await runCli([
      'run',
      `${fixtures}/specs/bert-seq-cls.adapt`,
      '--input',
      `${fixtures}/bert-seq-cls.expected.safetensors`,
      '--backend',
      'cpu',
    ]);
    expect(result.code).toBe(0);
    expect(result.stderr).toContain('note: ignored tensors in');
    expect(result.stdout).toMatch(/input {5}input_ids \[3, 13\] from /);
    expect(result.stdout).toMatch(/output {4}last_hidden_state \[3, 13, 32\]/);
  });

  it('says where adapter weights go when the checkpoint lacks them', async () => {
    const result = await runCli([
      'run',
      `${fixtures}/bert-seq-cls.pfeiffer.adapt`,
      '--text',
      'hi',
      '--backend',
      'cpu',
    ]);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(
      /^test\/fixtures\/hf\/bert-seq-cls\/model\.safetensors: error: the weights do not fit .*8 tensors are missing: .*; the checkpoint holds the base model: pass the adapters' weights with --weights FILE\n$/,
    );
    const given = await runCli([
      'run',
      `${fixtures}/bert-seq-cls.pfeiffer.adapt`,
      '--weights',
      `${fixtures}/bert-seq-cls.pfeiffer.adapters.safetensors`,
      '--text',
      'hi',
      '--backend',
      'cpu',
    ]);
    expect(given.code).toBe(0);
  });
});
