import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadSafetensors } from '../src/runtime/safetensors.js';
import { repoRoot, runCli, spawnCli } from './helpers/cli.js';

const dir = mkdtempSync(join(tmpdir(), 'adapt-train-'));
const checkpoint = join(repoRoot, 'test/fixtures/hf/bert-seq-cls');
const spec = join(dir, 'tiny.adapt');
writeFileSync(
  spec,
  `model tiny from "${checkpoint}"
adapter a { bottleneck 4 activation gelu at ffn }
adapter b { bottleneck 2 at ffn }
graph default = a
graph other = b
`,
);
const ROWS = [
  { text: 'I love this film', label: 'positive' },
  { text: 'the movie was bad', label: 'negative' },
  { text: 'hello world', label: 1 },
  { text: 'this film is not good', label: 'negative' },
  { text: 'the movie was great', label: 'positive' },
];
const data = join(dir, 'train.jsonl');
writeFileSync(data, `${ROWS.map((row) => JSON.stringify(row)).join('\n')}\n`);

const common = [
  '--adapter',
  'a',
  '--data',
  data,
  '--batch',
  '2',
  '--lr',
  '1e-2',
  '--backend',
  'cpu',
];
const trained = (out: string) =>
  loadSafetensors(readFileSync(join(out, 'trained_weights.safetensors')));

/** A failed run: exit 1 (or 2 for usage), one line on stderr, no stack trace. */
async function refused(args: string[], code = 1, afterProgress = false): Promise<string> {
  const result = await runCli(['train', ...args]);
  expect(result.code, result.stderr).toBe(code);
  const lines = result.stderr.trimEnd().split('\n');
  if (!afterProgress) expect(lines).toHaveLength(1);
  expect(lines.filter((line) => line.includes('error'))).toHaveLength(1);
  expect(result.stderr).not.toMatch(/\n\s+at /);
  return lines.at(-1)!;
}

describe('adapt train on the CPU reference', () => {
  const out = join(dir, 'out');

  it('trains an adapter with its head and writes the directory and its checkpoints', async () => {
    const result = await runCli([
      'train',
      spec,
      ...common,
      '--steps',
      '4',
      '--no-shuffle',
      '--checkpoint-every',
      '2',
      '--eval',
      data,
      '--out',
      out,
    ]);
    expect(result.stderr).toMatch(
      /^training adapter 'a' of .*tiny\.adapt, graph 'default', on cpu: 5 rows, batch 2, 4 steps\n/,
    );
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toMatch(/step 4\/4 {2}epoch 2 {2}loss \d\.\d{4} {2}lr 1\.00e-2/);
    expect(result.stderr).toMatch(
      /eval {2}epoch 1 {2}step 3 {2}loss \d\.\d{4} {2}accuracy \d+\.\d\d% of 5/,
    );
    expect(result.stdout).toMatch(/trained adapter 'a' of .* on cpu: 4 steps, last loss \d\.\d{4}/);
    expect(result.stdout).toMatch(/trainable +\d[\d,]* +\d+\.\d\d%/);
    expect(result.stdout).toContain(`wrote ${out}`);
    for (const name of [
      'adapter_config.json',
      'adapter.safetensors',
      'optimizer.safetensors',
      'trainer_state.json',
    ])
      expect(existsSync(join(out, name)), name).toBe(true);
    expect(existsSync(join(out, 'checkpoint-2', 'trainer_state.json'))).toBe(true);
    const state = JSON.parse(
      readFileSync(join(out, 'checkpoint-2', 'trainer_state.json'), 'utf8'),
    ) as {
      step: number;
      position: number;
      settings: { lr: number; batch: number; shuffle: boolean };
      log_history: unknown[];
    };
    expect([state.step, state.position, state.settings.batch, state.settings.shuffle]).toEqual([
      2,
      4,
      2,
      false,
    ]);
    expect(state.log_history).toHaveLength(2);
    const weights = trained(out);
    expect(
      [...weights.keys()].every((n) => n.includes('.adapters.a.') || n.startsWith('classifier.')),
    ).toBe(true);
  });

  it('resumes from a checkpoint to the very weights of the run it continues', async () => {
    const resumed = join(dir, 'resumed');
    const result = await runCli([
      'train',
      spec,
      '--adapter',
      'a',
      '--data',
      data,
      '--backend',
      'cpu',
      '--resume',
      join(out, 'checkpoint-2'),
      '--out',
      resumed,
    ]);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toContain('4 steps from step 2');
    const whole = trained(out);
    const again = trained(resumed);
    for (const [name, tensor] of whole)
      expect([...again.get(name)!.data], name).toEqual([...tensor.data]);
    expect(
      await refused([
        spec,
        '--adapter',
        'a',
        '--data',
        data,
        '--backend',
        'cpu',
        '--lr',
        '0.5',
        '--resume',
        join(out, 'checkpoint-2'),
        '--out',
        join(dir, 'r2'),
      ]),
    ).toMatch(
      /trainer_state\.json: error: --lr gives 0\.5, the checkpoint's run 0\.01; leave the option out/,
    );
  });

  it('resumes a shuffled run mid-epoch to the same weights, and extends a constant schedule', async () => {
    const shuffled = join(dir, 'shuffled');
    const args = ['train', spec, '--adapter', 'a', '--data', data, '--backend', 'cpu'];
    const first = await runCli([
      ...args,
      '--batch',
      '2',
      '--lr',
      '1e-2',
      '--seed',
      '5',
      '--steps',
      '5',
      '--checkpoint-every',
      '2',
      '--out',
      shuffled,
    ]);
    expect(first.code, first.stderr).toBe(0);
    const resumed = join(dir, 'shuffled-resumed');
    const second = await runCli([
      ...args,
      '--resume',
      join(shuffled, 'checkpoint-4'),
      '--out',
      resumed,
    ]);
    expect(second.code, second.stderr).toBe(0);
    for (const [name, tensor] of trained(shuffled))
      expect([...trained(resumed).get(name)!.data], name).toEqual([...tensor.data]);
    const longer = join(dir, 'shuffled-longer');
    const third = await runCli([
      ...args,
      '--steps',
      '7',
      '--resume',
      join(shuffled, 'checkpoint-4'),
      '--out',
      longer,
    ]);
    expect(third.code, third.stderr).toBe(0);
    expect(third.stdout).toContain(': 7 steps');
    // --epochs counts the checkpoint's batch of 2: 3 epochs of ceil(5 / 2) steps.
    const epochs = await runCli([
      ...args,
      '--epochs',
      '3',
      '--resume',
      join(shuffled, 'checkpoint-4'),
      '--out',
      join(dir, 'shuffled-epochs'),
    ]);
    expect(epochs.code, epochs.stderr).toBe(0);
    expect(epochs.stdout).toContain(': 9 steps');
  });

  it('loads the trained directory back and classifies with it', async () => {
    const back = join(dir, 'back.adapt');
    writeFileSync(
      back,
      `model tiny from "${checkpoint}"\nadapter a from "${out}"\ngraph default = a\n`,
    );
    const result = await runCli(['run', back, '--text', 'I love this film', '--backend', 'cpu']);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toMatch(
      /"I love this film"\n {2}(negative|neutral|positive) {2}0\.\d{4}/,
    );
  });
});

describe('adapt train refuses bad input with one located error', () => {
  const fresh = () => join(dir, `o-${Math.random().toString(36).slice(2)}`);
  const withData = (name: string, text: string) => {
    const path = join(dir, name);
    writeFileSync(path, text);
    return path;
  };
  const trainOn = (path: string) => [
    spec,
    '--adapter',
    'a',
    '--data',
    path,
    '--backend',
    'cpu',
    '--out',
    fresh(),
  ];

  it('an unknown label, at its line', async () => {
    const path = withData(
      'label.jsonl',
      '{"text": "fine", "label": 0}\n{"text": "x", "label": "happy"}\n',
    );
    expect(await refused(trainOn(path))).toBe(
      `${path}:2: error: key 'label': unknown label "happy"; the labels are 0 "negative", 1 "neutral", 2 "positive"`,
    );
  });

  it('an empty file', async () => {
    const path = withData('empty.jsonl', '');
    expect(await refused(trainOn(path))).toBe(
      `${path}: error: holds no rows; each line is {"text": "...", "label": "..."}`,
    );
  });

  it('a text with no tokens', async () => {
    const path = withData(
      'blank.jsonl',
      '{"text": "ok", "label": 0}\n{"text": "\\u0000\\u0001", "label": 0}\n',
    );
    expect(await refused(trainOn(path))).toBe(
      `${path}:2: error: key 'text': gives no tokens but the special ones`,
    );
  });

  it('--adapter naming nothing, or an adapter the graph does not use', async () => {
    expect(await refused([spec, '--adapter', 'zz', '--data', data, '--out', fresh()])).toBe(
      `${spec}: error: --adapter zz: no adapter 'zz'; the spec's adapters are 'a', 'b'`,
    );
    expect(await refused([spec, '--adapter', 'b', '--data', data, '--out', fresh()])).toBe(
      `${spec}: error: --adapter b: graph 'default' does not use adapter 'b'; it uses 'a' (choose the graph with --graph)`,
    );
    expect(await refused([spec, '--fusion', 'f', '--data', data, '--out', fresh()])).toBe(
      `${spec}: error: --fusion f: no fusion 'f'; the spec declares no fusion`,
    );
    expect(await refused([spec, '--data', data, '--out', fresh()], 2)).toMatch(
      /give --adapter NAME .* or --fusion NAME .*, not neither/,
    );
  });

  it('a loss that is not finite, with the step and the rows', async () => {
    const message = await refused(
      [...trainOn(data), '--lr', '3e38', '--steps', '6', '--batch', '2', '--no-shuffle'],
      1,
      true,
    );
    expect(message).toMatch(
      new RegExp(
        `^${data.replace(/[.]/g, '\\.')}:\\d: error: step \\d: the loss is (NaN|Infinity), on rows .* \\(lines .*\\); training stopped there$`,
      ),
    );
  });

  it('from the installed binary too: exit 1, one line, no stack trace', () => {
    const result = spawnCli(['train', spec, '--adapter', 'zz', '--data', data, '--out', fresh()]);
    expect(result.code).toBe(1);
    expect(result.stderr).toBe(
      `${spec}: error: --adapter zz: no adapter 'zz'; the spec's adapters are 'a', 'b'\n`,
    );
  });

  it('an --out that is not empty, and --dropout', async () => {
    const full = join(dir, 'full');
    mkdirSync(full);
    writeFileSync(join(full, 'x'), '');
    expect(await refused([spec, '--adapter', 'a', '--data', data, '--out', full], 2)).toBe(
      `adapt: error: --out ${full} is not empty; give a new or empty directory (a run never overwrites)`,
    );
    expect(await refused([...trainOn(data), '--dropout', '0.1'])).toMatch(
      /--dropout 0\.1: training runs without dropout/,
    );
  });
});
