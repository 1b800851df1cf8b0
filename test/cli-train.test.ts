import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli, spawnCli } from './helpers/cli.js';
import { tinyTraining } from './training/tiny-cli.js';
import { expectResumedAsWhole, trainedTensors } from './training/trained-output.js';

const { dir, checkpoint, spec, data } = tinyTraining('adapt-train-');

/** `adapt train` of adapter a on the CPU reference; each run adds its options. */
const onCpu = ['train', spec, '--adapter', 'a', '--data', data, '--backend', 'cpu'];

/** What follows a usage error (commander's help hint), not a second error. */
const USAGE_HINT = '(run adapt --help for usage)';

/** A failed run: exit 1 (or 2 for usage), one line on stderr, no stack trace. */
async function refused(args: string[], code = 1, afterProgress = false): Promise<string> {
  const result = await runCli(['train', ...args]);
  expect(result.code, result.stderr).toBe(code);
  const lines = result.stderr
    .trimEnd()
    .split('\n')
    .filter((line) => line !== USAGE_HINT);
  if (!afterProgress) expect(lines).toHaveLength(1);
  expect(lines.filter((line) => line.includes('error'))).toHaveLength(1);
  expect(result.stderr).not.toMatch(/\n\s+at /);
  return lines.at(-1)!;
}

describe('adapt train on the CPU reference', () => {
  const out = join(dir, 'out');

  it('trains an adapter with its head and writes the directory and its checkpoints', async () => {
    const result = await runCli([
      ...onCpu,
      '--batch',
      '2',
      '--lr',
      '1e-2',
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
    const weights = trainedTensors(out);
    expect(
      [...weights.keys()].every((n) => n.includes('.adapters.a.') || n.startsWith('classifier.')),
    ).toBe(true);
  });

  it('resumes from a checkpoint to the very weights of the run it continues', async () => {
    const result = await expectResumedAsWhole(
      onCpu,
      join(out, 'checkpoint-2'),
      out,
      join(dir, 'resumed'),
    );
    expect(result.stderr).toContain('4 steps from step 2');
    expect(
      await refused([
        ...onCpu.slice(1),
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
    const first = await runCli([
      ...onCpu,
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
    await expectResumedAsWhole(
      onCpu,
      join(shuffled, 'checkpoint-4'),
      shuffled,
      join(dir, 'shuffled-resumed'),
    );
    // --steps extends the constant schedule; --epochs counts the checkpoint's batch of 2: 3 epochs
    // of ceil(5 / 2) steps.
    for (const [option, value, steps] of [
      ['--steps', '7', 7],
      ['--epochs', '3', 9],
    ] as const) {
      const result = await runCli([
        ...onCpu,
        option,
        value,
        '--resume',
        join(shuffled, 'checkpoint-4'),
        '--out',
        join(dir, `shuffled${option}`),
      ]);
      expect(result.code, result.stderr).toBe(0);
      expect(result.stdout).toContain(`: ${steps} steps`);
    }
  });

  it('says one row and one step in the singular', async () => {
    const one = join(dir, 'one.jsonl');
    writeFileSync(one, '{"text": "I love this film", "label": "positive"}\n');
    const result = await runCli([
      ...onCpu.slice(0, 4),
      '--data',
      one,
      '--backend',
      'cpu',
      '--steps',
      '1',
      '--out',
      join(dir, 'one'),
    ]);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toContain(': 1 row, batch 8, 1 step\n');
    expect(result.stdout).toMatch(/ on cpu: 1 step, last loss /);
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

  it('an --out that is not empty, and a --dropout that is no probability below 1', async () => {
    const full = join(dir, 'full');
    mkdirSync(full);
    writeFileSync(join(full, 'x'), '');
    expect(await refused([spec, '--adapter', 'a', '--data', data, '--out', full], 2)).toBe(
      `adapt: error: --out ${full} is not empty; give a new or empty directory (a run never overwrites)`,
    );
    for (const [given, why] of [
      ['1', '1 is out of range: expected'],
      ['-0.1', 'expected'],
      ['abc', 'expected'],
    ] as const) {
      expect(await refused([...trainOn(data), '--dropout', given], 2), given).toBe(
        `adapt: error: option '--dropout <p>' argument '${given}' is invalid. ${why} a probability ≥ 0 and < 1`,
      );
    }
  });

  it('a --data file that is missing, or a directory', async () => {
    const missing = join(dir, 'missing.jsonl');
    expect(await refused(trainOn(missing))).toBe(
      `${missing}: error: cannot read file (no such file)`,
    );
    expect(await refused(trainOn(dir))).toBe(
      `${dir}: error: cannot read file (it is a directory, not a regular file)`,
    );
  });

  it('a line that is not JSON, at its line', async () => {
    const path = withData('not-json.jsonl', '{"text": "fine", "label": 0}\nfine, 0\n');
    expect(await refused(trainOn(path))).toMatch(
      new RegExp(`^${path.replace(/[.]/g, '\\.')}:2: error: not JSON \\(`),
    );
  });

  it('--adapter and --fusion both', async () => {
    expect(await refused([...trainOn(data), '--fusion', 'f'], 2)).toMatch(
      /give --adapter NAME .* or --fusion NAME .*, not both$/,
    );
  });

  it('--steps 0, --lr -1 and --batch abc, each naming the option', async () => {
    expect(await refused([...trainOn(data), '--steps', '0'], 2)).toBe(
      "adapt: error: option '--steps <n>' argument '0' is invalid. 0 is out of range: expected 1..2147483647",
    );
    expect(await refused([...trainOn(data), '--lr', '-1'], 2)).toBe(
      "adapt: error: option '--lr <rate>' argument '-1' is invalid. expected a number > 0",
    );
    expect(await refused([...trainOn(data), '--batch', 'abc'], 2)).toBe(
      "adapt: error: option '--batch <n>' argument 'abc' is invalid. expected an integer in 1..2147483647",
    );
  });

  it('frozen adapters whose weights no file holds, before training', async () => {
    const stacked = join(dir, 'stacked.adapt');
    writeFileSync(
      stacked,
      `model tiny from "${checkpoint}"\nadapter a { bottleneck 4 at ffn }\nadapter b { bottleneck 2 at ffn }\ngraph default = stack(a, b)\n`,
    );
    expect(await refused([stacked, ...trainOn(data).slice(1)])).toMatch(
      new RegExp(
        `^${stacked.replace(/[.]/g, '\\.')}: error: 8 frozen weights are in no file: 'encoder\\.layer\\.0\\.output\\.adapters\\.b\\..*, …; give the frozen adapters' weights \\(adapter NAME from "DIR", or --weights FILE\\)$`,
      ),
    );
  });

  it('a graph on hidden states, which has no text to train on', async () => {
    const hidden = join(dir, 'hidden.adapt');
    writeFileSync(
      hidden,
      'model tiny { layers 2 hidden 8 heads 2 ffn 16 }\nadapter a { bottleneck 4 at ffn }\ngraph default = a\n',
    );
    expect(await refused([hidden, ...trainOn(data).slice(1)])).toBe(
      `${hidden}: error: graph 'default' reads hidden states; training takes text, so the model must be read from a checkpoint (model NAME from "DIR")`,
    );
  });

  it('a --resume that is a file, or nothing', async () => {
    expect(await refused([...trainOn(data), '--resume', spec])).toBe(
      `${spec}: error: --resume takes a checkpoint directory that adapt train wrote (with trainer_state.json); this is not a directory`,
    );
    const none = join(dir, 'no-checkpoint');
    expect(await refused([...trainOn(data), '--resume', none])).toBe(
      `${none}: error: --resume takes a checkpoint directory that adapt train wrote (with trainer_state.json); there is none`,
    );
  });

  // Node's recursive mkdir spins forever under /proc; the run must say so before it trains.
  it.skipIf(!existsSync('/proc/self'))('an --out that cannot be created', async () => {
    const out = `/proc/adapt-train-${process.pid}`;
    expect(
      await refused([spec, '--adapter', 'a', '--data', data, '--backend', 'cpu', '--out', out]),
    ).toMatch(new RegExp(`^${out}: error: cannot write \\(`));
  });
});
