import { execFileSync } from 'node:child_process';
import {
  chmodSync,
  copyFileSync,
  linkSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  truncateSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { prepareOutput, writeOutput } from '../../src/cli/output-file.js';
import { saveSafetensors } from '../../src/runtime/safetensors.js';
import { repoRoot, runCli } from '../helpers/cli.js';

// Every memory check compares with the machine's memory: pinned here, so that the figures in
// the messages are the same on every machine, and nothing large is ever allocated.
vi.mock('node:os', async (importOriginal) => {
  const os = await importOriginal<typeof import('node:os')>();
  return { ...os, totalmem: () => 8 * 2 ** 30 };
});

const WORKED = `${repoRoot}examples/worked-example.adapt`;
const BERT = `${repoRoot}examples/bert-base-pfeiffer.adapt`;

/** A fresh directory holding a copy of the worked example as spec.adapt. */
function workspace(): { dir: string; spec: string; at: (name: string) => string } {
  const dir = mkdtempSync(join(tmpdir(), 'adapt-hostile-cli-'));
  const spec = join(dir, 'spec.adapt');
  copyFileSync(WORKED, spec);
  return { dir, spec, at: (name) => join(dir, name) };
}

/** Runs the CLI in `dir` and checks that the files named are byte-identical afterwards. */
async function runKeeping(dir: string, keep: readonly string[], args: string[]) {
  const before = keep.map((path) => readFileSync(join(dir, path)));
  const result = await runCli(args, dir);
  keep.forEach((path, i) => expect(readFileSync(join(dir, path)).equals(before[i]!)).toBe(true));
  expect(result.stderr).not.toContain('internal error');
  return result;
}

const leftovers = (dir: string) => readdirSync(dir).filter((name) => name.endsWith('.tmp'));

describe('outputs never replace an input', () => {
  it('refuses every command whose output is its spec, even with --force', async () => {
    const { dir } = workspace();
    copyFileSync(join(dir, 'spec.adapt'), join(dir, 'spec.dot'));
    const cases: [string[], string][] = [
      [['run', 'spec.adapt', '--backend', 'cpu', '--output', 'spec.adapt'], '--output'],
      [['weights', 'spec.adapt', '--init', '-o', 'spec.adapt'], '-o'],
      [['compile', 'spec.adapt', '-o', 'spec.adapt'], '-o'],
      [['export', 'spec.adapt', '--onnx', 'spec.adapt'], '--onnx'],
      [['bench', 'spec.adapt', '--backend', 'cpu', '--json', 'spec.adapt'], '--json'],
      [['graph', 'spec.dot', '-o', 'spec.dot'], '-o'],
    ];
    for (const [args, option] of cases) {
      for (const force of [[], ['--force']]) {
        const file = args[1]!;
        const result = await runKeeping(dir, [file], [...args, ...force]);
        expect(result).toEqual({
          code: 2,
          stdout: '',
          stderr: `adapt: error: ${option} ${file} is one of this command's inputs (the spec); choose another path\n`,
        });
      }
    }
  });

  it('refuses a weight or input file as the output, also through a symbolic or hard link', async () => {
    const { dir } = workspace();
    await runCli(['weights', 'spec.adapt', '--init', '-o', 'w.safetensors'], dir);
    const input = saveSafetensors({
      hidden_states: { shape: [1, 2, 4], data: new Float32Array(8).fill(0.5) },
    });
    writeFileSync(join(dir, 'in.safetensors'), input);
    symlinkSync('w.safetensors', join(dir, 'soft.safetensors'));
    linkSync(join(dir, 'in.safetensors'), join(dir, 'hard.safetensors'));
    const run = ['run', 'spec.adapt', '--backend', 'cpu', '--weights', 'w.safetensors'];
    const withInput = [...run, '--input', 'in.safetensors'];
    const cases: [string[], string, string][] = [
      [[...run, '--output', 'w.safetensors'], 'w.safetensors', '--weights'],
      [[...run, '--output', 'soft.safetensors'], 'soft.safetensors', '--weights'],
      [[...withInput, '--output', 'in.safetensors'], 'in.safetensors', '--input'],
      [[...withInput, '--output', 'hard.safetensors'], 'hard.safetensors', '--input'],
      [
        ['export', 'spec.adapt', '--weights', 'w.safetensors', '--onnx', 'soft.safetensors'],
        'soft.safetensors',
        '--weights',
      ],
    ];
    for (const [args, output, input] of cases) {
      const result = await runKeeping(
        dir,
        ['w.safetensors', 'in.safetensors', 'spec.adapt'],
        [...args, '--force'],
      );
      expect(result.code).toBe(2);
      expect(result.stderr).toMatch(
        new RegExp(
          `^adapt: error: --(output|onnx) ${output} is one of this command's inputs \\(${input}\\); choose another path\\n$`,
        ),
      );
    }
  });
});

describe('an existing file is replaced only with --force', () => {
  it('refuses without --force, replaces with it, keeping the permissions', async () => {
    const { dir, at } = workspace();
    writeFileSync(at('out.dot'), 'mine\n');
    chmodSync(at('out.dot'), 0o640);
    const refused = await runKeeping(dir, ['out.dot'], ['graph', 'spec.adapt', '-o', 'out.dot']);
    expect(refused).toEqual({
      code: 2,
      stdout: '',
      stderr: 'adapt: error: out.dot exists; pass --force to replace it\n',
    });
    const forced = await runCli(['graph', 'spec.adapt', '-o', 'out.dot', '--force'], dir);
    expect(forced).toEqual({
      code: 0,
      stdout: "wrote out.dot (graph 'default', 1 layer)\n",
      stderr: '',
    });
    expect(readFileSync(at('out.dot'), 'utf8')).toMatch(/^digraph picture \{/);
    expect(statSync(at('out.dot')).mode & 0o777).toBe(0o640);
    expect(leftovers(dir)).toEqual([]);
  });

  it('writes through a symbolic link to the file it names, with --force', async () => {
    const { dir, at } = workspace();
    writeFileSync(at('real.ir'), 'old\n');
    symlinkSync('real.ir', at('link.ir'));
    const result = await runCli(
      ['compile', 'spec.adapt', '--emit', 'ir', '-o', 'link.ir', '--force'],
      dir,
    );
    expect(result.code).toBe(0);
    expect(readFileSync(at('real.ir'), 'utf8')).toMatch(/^# inputs: /);
    expect(lstatSync(at('link.ir')).isSymbolicLink()).toBe(true);
    expect(readFileSync(at('link.ir'), 'utf8')).toBe(readFileSync(at('real.ir'), 'utf8'));
  });

  it('writes to a character device such as /dev/null without --force', async () => {
    const { dir } = workspace();
    const result = await runCli(['compile', 'spec.adapt', '-o', '/dev/null'], dir);
    expect(result).toEqual({
      code: 0,
      stdout: "wrote /dev/null (program, graph 'default')\n",
      stderr: '',
    });
  });
});

describe('the target is checked before the work', () => {
  it('fails on a missing directory before running the model', async () => {
    const { dir } = workspace();
    const result = await runCli(
      ['run', 'spec.adapt', '--backend', 'cpu', '--output', 'no/such/dir/out.safetensors'],
      dir,
    );
    expect(result).toEqual({
      code: 1,
      stdout: '',
      stderr: `no/such/dir/out.safetensors: error: cannot write file (the directory ${dir}/no/such/dir does not exist)\n`,
    });
  });

  it('refuses a directory, and a path under a file', async () => {
    const { dir } = workspace();
    mkdirSync(join(dir, 'sub'));
    expect(await runCli(['compile', 'spec.adapt', '-o', 'sub', '--force'], dir)).toEqual({
      code: 1,
      stdout: '',
      stderr: 'sub: error: cannot write file (it is a directory)\n',
    });
    const under = await runCli(['compile', 'spec.adapt', '-o', 'spec.adapt/x'], dir);
    expect(under.code).toBe(1);
    expect(under.stderr).toMatch(/^spec\.adapt\/x: error: cannot write file \(.+\)\n$/);
  });

  it('a failed run leaves no output file and no temporary file', async () => {
    const { dir, at } = workspace();
    writeFileSync(
      at('in.safetensors'),
      saveSafetensors({ hidden_states: { shape: [1, 2, 5], data: new Float32Array(10) } }),
    );
    const result = await runCli(
      ['run', 'spec.adapt', '--backend', 'cpu', '--input', 'in.safetensors', '--output', 'out.st'],
      dir,
    );
    expect(result.code).toBe(1);
    expect(result.stderr).toBe(
      "in.safetensors: error: tensor 'hidden_states': shape must be [B, T, 4], got [1, 2, 5]\n",
    );
    expect(readdirSync(dir).sort()).toEqual(['in.safetensors', 'spec.adapt']);
  });

  it('a file created while the command ran is not replaced, and the temporary file goes', () => {
    const { dir, at } = workspace();
    const target = prepareOutput(dir, { option: '-o', path: 'late.txt' }, [], false);
    writeFileSync(at('late.txt'), 'theirs\n');
    expect(() => writeOutput(target, 'mine\n')).toThrow(
      'adapt: error: late.txt exists; pass --force to replace it',
    );
    expect(readFileSync(at('late.txt'), 'utf8')).toBe('theirs\n');
    expect(leftovers(dir)).toEqual([]);
  });

  it('a write that fails leaves no temporary file', () => {
    const { dir, at } = workspace();
    mkdirSync(at('gone'));
    const target = prepareOutput(dir, { option: '-o', path: 'gone/out.txt' }, [], false);
    rmSync(at('gone'), { recursive: true });
    expect(() => writeOutput(target, 'text')).toThrow(
      'gone/out.txt: error: cannot write file (no such file)',
    );
    expect(leftovers(dir)).toEqual([]);
  });
});

describe('inputs are read strictly', () => {
  it('refuses what is not a regular file before reading it', async () => {
    const { dir, at } = workspace();
    execFileSync('mkfifo', [at('pipe.adapt')]);
    mkdirSync(at('folder.adapt'));
    const cases: [string[], string][] = [
      [
        ['check', '/dev/zero'],
        '/dev/zero: error: cannot read file (it is a character device, not a regular file)',
      ],
      [
        ['check', 'pipe.adapt'],
        'pipe.adapt: error: cannot read file (it is a named pipe, not a regular file)',
      ],
      [
        ['params', 'folder.adapt'],
        'folder.adapt: error: cannot read file (it is a directory, not a regular file)',
      ],
      [
        ['run', 'spec.adapt', '--backend', 'cpu', '--weights', '/dev/zero'],
        '/dev/zero: error: cannot read file (it is a character device, not a regular file)',
      ],
      [
        ['run', 'spec.adapt', '--backend', 'cpu', '--input', 'pipe.adapt'],
        'pipe.adapt: error: cannot read file (it is a named pipe, not a regular file)',
      ],
      [
        ['check', '/proc/self/status'],
        '/proc/self/status: error: cannot read file (it reports a size of 0 but holds data, as /proc files do; copy it first)',
      ],
    ];
    for (const [args, message] of cases) {
      const result = await runCli(args, dir);
      expect(result.code).toBe(1);
      expect(result.stderr.split('\n')[0]).toBe(message);
    }
  });

  it('refuses files past the size limits without reading them', async () => {
    const { dir, at } = workspace();
    writeFileSync(at('big.adapt'), '');
    truncateSync(at('big.adapt'), 16 * 2 ** 20 + 1);
    writeFileSync(at('big.safetensors'), '');
    truncateSync(at('big.safetensors'), 5 * 2 ** 30);
    expect((await runCli(['params', 'big.adapt'], dir)).stderr).toBe(
      'big.adapt: error: the file is 16,777,217 bytes; a .adapt spec may be at most 16,777,216 bytes (16.0 MiB)\n',
    );
    const weights = await runCli(['run', 'spec.adapt', '--weights', 'big.safetensors'], dir);
    expect(weights).toEqual({
      code: 1,
      stdout: '',
      stderr:
        'big.safetensors: error: the file is 5.0 GiB; a weight or input file may be at most 4.0 GiB\n',
    });
  });

  it('reports the first invalid UTF-8 byte at its line and column, and accepts a BOM', async () => {
    const { dir, at } = workspace();
    const text = readFileSync(WORKED);
    const lines = text.toString('utf8').split('\n');
    const bad = Buffer.concat([
      Buffer.from(`${lines[0]}\n# café \u2192 `),
      Buffer.from([0xc3, 0x28]),
      Buffer.from(`\n${lines.slice(1).join('\n')}`),
    ]);
    writeFileSync(at('bad.adapt'), bad);
    const offset = bad.indexOf(Buffer.from([0xc3, 0x28]));
    const result = await runCli(['params', 'bad.adapt'], dir);
    expect(result).toEqual({
      code: 1,
      stdout: '',
      stderr: `bad.adapt:2:10: error: invalid UTF-8 byte 0xC3 at byte offset ${offset}\n`,
    });
    const stray = Buffer.concat([Buffer.from('model'), Buffer.from([0x80])]);
    writeFileSync(at('stray.adapt'), stray);
    expect((await runCli(['check', 'stray.adapt'], dir)).stderr.split('\n')[0]).toBe(
      'stray.adapt:1:6: error: invalid UTF-8 byte 0x80 at byte offset 5',
    );
    writeFileSync(at('bom.adapt'), Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), text]));
    expect(await runCli(['check', 'bom.adapt'], dir)).toEqual({
      code: 0,
      stdout: 'bom.adapt: ok\n',
      stderr: '',
    });
  });
});

describe('numbers on the command line', () => {
  it('takes seeds up to 2^32 - 1 and refuses the next one', async () => {
    const { dir } = workspace();
    const top = await runCli(
      ['run', 'spec.adapt', '--backend', 'cpu', '--seed', '4294967295'],
      dir,
    );
    expect(top.code).toBe(0);
    expect(top.stdout).toContain('random N(0, 1) (seed 4294967295)');
    const past = await runCli(
      ['weights', 'spec.adapt', '--init', '-o', 'w.st', '--seed', '4294967296'],
      dir,
    );
    expect(past.code).toBe(2);
    expect(past.stderr).toContain(
      "adapt: error: option '--seed <n>' argument '4294967296' is invalid. 4294967296 is out of range: expected 0..4294967295 (seeds are 32-bit)",
    );
    expect(readdirSync(dir)).toEqual(['spec.adapt']);
  });

  it('refuses ports, sizes, counts and timeouts out of range', async () => {
    const cases: [string[], string][] = [
      [['playground', '--port', '0'], "'0' is invalid. 0 is out of range: expected 1..65535"],
      [['playground', '--port', '65536'], "'65536' is invalid. 65536 is out of range"],
      [['run', WORKED, '--seq', '2147483648'], 'expected 1..2147483647'],
      [['run', WORKED, '--batch', '1e3'], "'1e3' is invalid. expected an integer in"],
      [['run', WORKED, '--timeout', '0'], "'0' is invalid. 0 is out of range: expected 1..86400"],
      [['bench', WORKED, '--iters', '1000001'], 'expected 1..1000000'],
      [['bench', WORKED, '--layers', '10001'], 'expected 1..10000'],
      [['bench', WORKED, '--warmup', '-1'], "'-1' is invalid"],
    ];
    for (const [args, message] of cases) {
      const result = await runCli(args);
      expect(result.code).toBe(2);
      expect(result.stderr).toContain(message);
    }
  });
});

describe('sizes past the machine are refused before anything is allocated', () => {
  it('adapt run at a billion tokens', async () => {
    const result = await runCli(['run', BERT, '--backend', 'cpu', '--seq', '1000000000']);
    expect(result.code).toBe(1);
    expect(result.stdout).toBe('');
    expect(result.stderr).toMatch(
      /^adapt: error: --batch 1 --seq 1000000000 needs \d+\.\d TiB \(weights 329\.0 MiB, inputs 2\.8 TiB, activations \d+\.\d TiB\); this machine has 8\.0 GiB\n$/,
    );
  });

  it('adapt bench with a huge batch', async () => {
    const result = await runCli(['bench', BERT, '--backend', 'cpu', '--batch', '100000']);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(
      /^adapt: error: --batch 100000 --seq 128 with 12 layers, three models needs \d+\.\d TiB \(.+\); this machine has 8\.0 GiB\n$/,
    );
  });

  it('weights --init and export of a model larger than memory', async () => {
    const { dir, at } = workspace();
    writeFileSync(at('wide.adapt'), 'model m { hidden 4096 heads 32 ffn 16384 layers 40 }\n');
    const init = await runCli(['weights', 'wide.adapt', '--init', '-o', 'w.st'], dir);
    expect(init).toEqual({
      code: 1,
      stdout: '',
      stderr:
        "adapt: error: weights --init for graph 'default' needs 60.0 GiB (weights 30.0 GiB, twice: the tensors and the file's bytes); this machine has 8.0 GiB\n",
    });
    const onnx = await runCli(['export', 'wide.adapt', '--onnx', 'w.onnx'], dir);
    expect(onnx.code).toBe(1);
    expect(onnx.stderr).toBe(
      "adapt: error: export of graph 'default' needs 90.0 GiB (weights 30.0 GiB, three times: as read, as bound and in the ONNX bytes); this machine has 8.0 GiB\n",
    );
    expect(readdirSync(dir).sort()).toEqual(['spec.adapt', 'wide.adapt']);
  });

  it('a spec of 100,000 layers is refused with its size', async () => {
    const { dir, at } = workspace();
    writeFileSync(
      at('deep.adapt'),
      'model m { hidden 768 heads 12 ffn 3072 layers 100000 }\nadapter a { bottleneck 8 at ffn }\n',
    );
    const result = await runCli(['weights', 'deep.adapt', '--init', '-o', 'w.st'], dir);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('2.6 TiB');
    expect(readdirSync(dir).sort()).toEqual(['deep.adapt', 'spec.adapt']);
  });
});

describe('runtime errors name the file at fault', () => {
  const hidden = (values: number[]) =>
    saveSafetensors({ hidden_states: { shape: [1, 2, 4], data: new Float32Array(values) } });

  it('refuses NaN in an input file unless --allow-nonfinite', async () => {
    const { dir, at } = workspace();
    writeFileSync(at('nan.safetensors'), hidden([1, 2, 3, NaN, 5, 6, 7, 8]));
    const args = ['run', 'spec.adapt', '--backend', 'cpu', '--input', 'nan.safetensors'];
    const refused = await runCli(args, dir);
    expect(refused.code).toBe(1);
    expect(refused.stdout).toBe('');
    expect(refused.stderr).toMatch(/^nan\.safetensors: error: tensor 'hidden_states': .*NaN.*\n$/);
    const allowed = await runCli([...args, '--allow-nonfinite'], dir);
    expect(allowed.code).toBe(0);
    expect(allowed.stdout).toContain('output    hidden_states [1, 2, 4]  mean NaN');
  });

  it('names the weight file that does not fit', async () => {
    const { dir, at } = workspace();
    writeFileSync(at('w.safetensors'), hidden([1, 2, 3, 4, 5, 6, 7, 8]));
    const result = await runCli(['run', 'spec.adapt', '--weights', 'w.safetensors'], dir);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/^w\.safetensors: error: /);
    expect(result.stderr).not.toContain('internal error');
  });

  it('names a corrupt safetensors file', async () => {
    const { dir, at } = workspace();
    writeFileSync(at('junk.safetensors'), Buffer.from('not a safetensors file at all'));
    const result = await runCli(
      ['export', 'spec.adapt', '--weights', 'junk.safetensors', '--onnx', 'x.onnx'],
      dir,
    );
    expect(result.code).toBe(1);
    expect(result.stderr.split('\n')).toHaveLength(2);
    expect(result.stderr).toMatch(/^junk\.safetensors: error: /);
    expect(readdirSync(dir).sort()).toEqual(['junk.safetensors', 'spec.adapt']);
  });
});

describe('arguments are taken as written, or refused', () => {
  it('refuses an empty file name for every path argument and option, and runs nothing', async () => {
    const { dir } = workspace();
    const cases: string[][] = [
      ['check', ''],
      ['check', 'spec.adapt', ''],
      ['params', ''],
      ['run', 'spec.adapt', '--backend', 'cpu', '--output', ''],
      ['run', 'spec.adapt', '--backend', 'cpu', '--input', ''],
      ['run', 'spec.adapt', '--backend', 'cpu', '--weights', ''],
      ['weights', 'spec.adapt', '--init', '-o', ''],
      ['compile', 'spec.adapt', '-o', ''],
      ['graph', 'spec.adapt', '-o', ''],
      ['export', 'spec.adapt', '--onnx', ''],
      ['bench', 'spec.adapt', '--backend', 'cpu', '--iters', '1', '--json', ''],
    ];
    for (const args of cases) {
      const result = await runKeeping(dir, ['spec.adapt'], args);
      expect(result.code, args.join(' ')).toBe(2);
      expect(result.stdout).toBe('');
      expect(result.stderr).toContain('expected a file name, found an empty string');
    }
    expect(readdirSync(dir)).toEqual(['spec.adapt']);
  });

  it('refuses an option given twice instead of keeping the last value', async () => {
    const { dir } = workspace();
    const cases: [string[], string][] = [
      [['run', 'spec.adapt', '--backend', 'cpu', '--seq', '4', '--seq', '8'], '--seq'],
      [['run', 'spec.adapt', '--backend', 'cpu', '--backend', 'cpu'], '--backend'],
      [['compile', 'spec.adapt', '-o', 'a.json', '--output', 'b.json'], '-o/--output'],
      [['compile', 'spec.adapt', '--no-fuse', '--no-fuse'], '--no-fuse'],
      [['params', 'spec.adapt', '--graph', 'default', '--graph', 'other'], '--graph'],
    ];
    for (const [args, option] of cases) {
      expect(await runKeeping(dir, ['spec.adapt'], args)).toEqual({
        code: 2,
        stdout: '',
        stderr: `adapt: error: option '${option}' is given more than once; give it once\n`,
      });
    }
    expect(readdirSync(dir)).toEqual(['spec.adapt']);
  });

  it('still takes --weights more than once', async () => {
    const { dir } = workspace();
    await runCli(['weights', 'spec.adapt', '--init', '-o', 'w.safetensors'], dir);
    const result = await runCli(
      [
        'run',
        'spec.adapt',
        '--backend',
        'cpu',
        '--weights',
        'w.safetensors',
        '--weights',
        'w.safetensors',
      ],
      dir,
    );
    // Accepted as options; the second file repeats the first one's tensors.
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(
      /^w\.safetensors: error: tensor '.*' is also in w\.safetensors\n$/,
    );
  });

  it('takes --emit and a picture format from their own lists, not from Object.prototype', async () => {
    const { dir } = workspace();
    for (const emit of ['__proto__', 'constructor', 'toString', 'hasOwnProperty']) {
      const result = await runKeeping(
        dir,
        ['spec.adapt'],
        ['compile', 'spec.adapt', '--emit', emit],
      );
      expect(result).toEqual({
        code: 2,
        stdout: '',
        stderr: `adapt: error: unknown --emit '${emit}'; choose one of ast, ir, fused, dot, wgsl, plan, program\n`,
      });
    }
    for (const output of ['x.__proto__', 'x.constructor']) {
      const result = await runKeeping(dir, ['spec.adapt'], ['graph', 'spec.adapt', '-o', output]);
      expect(result.code).toBe(2);
      expect(result.stderr).toContain('cannot tell the picture format');
    }
    expect(readdirSync(dir)).toEqual(['spec.adapt']);
  });
});

describe('messages stay one line', () => {
  it('escapes control characters in the file names they quote', async () => {
    const { dir, at } = workspace();
    const name = 'bad\nname\x1b[31m.adapt';
    writeFileSync(at(name), 'model m { hidden 64 heads 5 ffn 128 layers 4 }\n');
    const diagnostic = await runCli(['check', name], dir);
    expect(diagnostic.code).toBe(1);
    expect(diagnostic.stderr.split('\n')[0]).toBe(
      'bad\\nname\\x1b[31m.adapt:1:27: error[E0104]: heads (5) must divide hidden (64)',
    );
    expect(await runCli(['check', 'no\nsuch\x1b.adapt'], dir)).toEqual({
      code: 1,
      stdout: '',
      stderr: 'no\\nsuch\\x1b.adapt: error: cannot read file (no such file)\n1 error in 1 file\n',
    });
    copyFileSync(at('spec.adapt'), at('ok\n.adapt'));
    expect((await runCli(['check', 'ok\n.adapt'], dir)).stdout).toBe('ok\\n.adapt: ok\n');
    const output = await runCli(['compile', 'spec.adapt', '-o', 'missing\u2028dir/x.json'], dir);
    expect(output.stderr).toMatch(
      /^missing\\u2028dir\/x\.json: error: cannot write file \(.*\)\n$/,
    );
  });
});

describe('large outputs', () => {
  it('lays out tables of any length without spreading them into arguments', async () => {
    const { formatTable } = await import('../../src/cli/table.js');
    const rows = Array.from({ length: 300_000 }, (_, i) => [`t${i}`, String(i)]);
    const table = formatTable(['tensor', 'n'], rows);
    expect(table.split('\n')).toHaveLength(300_001);
    expect(table.split('\n').at(-1)).toBe('  t299999  299999');
  });

  it('refuses an SVG picture Graphviz cannot lay out, before calling it, and points to .dot', async () => {
    const { dotToSvg, MAX_SVG_EDGES } = await import('../../src/cli/svg.js');
    const edges = Array.from({ length: MAX_SVG_EDGES + 1 }, (_, i) => `n${i} -> n${i + 1};`);
    await expect(dotToSvg(`digraph { ${edges.join(' ')} }`, 'big.svg')).rejects.toThrow(
      /^big\.svg: error: the picture has 8,001 edges, more than the 8,000 that are laid out as SVG; name the output file \.dot/,
    );
    const { dir, at } = workspace();
    writeFileSync(
      at('deep.adapt'),
      'model m { hidden 4 heads 1 ffn 4 layers 1000 }\nadapter a { bottleneck 2 at attn, ffn }\nadapter b { bottleneck 2 at ffn }\nfusion f { adapters a, b }\n',
    );
    const result = await runKeeping(dir, ['deep.adapt'], ['graph', 'deep.adapt', '-o', 'deep.svg']);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/^deep\.svg: error: the picture has [\d,]+ edges, more than/);
    expect(readdirSync(dir).sort()).toEqual(['deep.adapt', 'spec.adapt']);
    const dot = await runCli(['graph', 'deep.adapt', '-o', 'deep.dot'], dir);
    expect(dot.code).toBe(0);
  });
});

describe('compile --emit', () => {
  it('writes every stage of an odd but valid spec: hidden 1, heads = hidden, bottleneck 1, one layer', async () => {
    const { dir, at } = workspace();
    writeFileSync(
      at('tiny.adapt'),
      'model m { hidden 1 heads 1 ffn 1 layers 1 }\nadapter a { bottleneck 1 at attn, ffn }\nadapter b { bottleneck 1 at ffn }\nfusion f { adapters a, b }\ngraph default = f\ngraph routed = batch(a)\n',
    );
    for (const graph of ['default', 'routed']) {
      for (const emit of ['ast', 'ir', 'fused', 'dot', 'wgsl', 'plan', 'program']) {
        const result = await runCli(
          ['compile', 'tiny.adapt', '--graph', graph, '--emit', emit],
          dir,
        );
        expect(result.code, `${graph} ${emit}`).toBe(0);
        expect(result.stdout.length).toBeGreaterThan(0);
        expect(result.stderr).not.toContain('error');
      }
    }
  });
});
