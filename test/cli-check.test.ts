import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { repoRoot, runCli, spawnCli } from './helpers/cli.js';

const dir = mkdtempSync(join(tmpdir(), 'adapt-cli-'));
function file(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

const broken = file(
  'broken.adapt',
  'model m {\n  hidden 768\n  heads 10\n  ffn 3072\n  layers 12\n}\nadapter a { botleneck 8 at ffn }\n',
);
const warned = file(
  'warned.adapt',
  'model m { hidden 64 heads 4 ffn 128 layers 2 }\nadapter a { bottleneck 64 at ffn }\n',
);

describe('adapt check', () => {
  it('exits 0 on the examples', async () => {
    const examples = [
      'bert-base-pfeiffer',
      'bert-base-houlsby',
      'bert-base-parallel',
      'bert-base-fusion',
      'gpt2-small-adapters',
      'worked-example',
    ].map((name) => `examples/${name}.adapt`);
    const result = await runCli(['check', ...examples]);
    expect(result).toEqual({ code: 0, stdout: '6 files: ok\n', stderr: '' });
  });

  it('exits 1 with located diagnostics and code frames', async () => {
    const result = await runCli(['check', broken]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(
      `${broken}:3:9: error[E0104]: heads (10) must divide hidden (768)`,
    );
    expect(result.stderr).toContain('> 3 |   heads 10\n    |         ^^\n');
    expect(result.stderr).toContain(`${broken}:7:13: error[E0106]: unknown property 'botleneck'`);
    expect(result.stderr).toContain("help: did you mean 'bottleneck'?");
    expect(result.stderr).toMatch(/3 errors in 1 file\n$/);
  });

  it('exits 0 with warnings only, and prints them', async () => {
    const result = await runCli(['check', warned]);
    expect(result.code).toBe(0);
    expect(result.stderr).toContain('warning[W0203]');
    expect(result.stdout).toBe('0 errors, 1 warning in 1 file\n');
  });

  it('exits 1 on a missing file and still checks the others', async () => {
    const result = await runCli(['check', 'no-such.adapt', broken]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('no-such.adapt: error: cannot read file (no such file)');
    expect(result.stderr).toContain('error[E0104]');
  });

  it('exits 2 on usage errors', async () => {
    expect((await runCli(['check'])).code).toBe(2);
    expect((await runCli(['frobnicate'])).code).toBe(2);
    expect((await runCli(['params', broken, '--bogus'])).code).toBe(2);
  });

  it('prints help and the version with exit 0', async () => {
    const help = await runCli(['--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('Usage: adapt');
    expect(help.stdout).toContain('check');
    const { version } = JSON.parse(readFileSync(`${repoRoot}package.json`, 'utf8')) as {
      version: string;
    };
    expect((await runCli(['--version'])).stdout).toBe(`${version}\n`);
  });

  it('the installed binary prints located errors and no stack trace', () => {
    const result = spawnCli(['check', broken]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('error[E0104]');
    expect(result.stderr).not.toMatch(/\n\s+at .*\.(js|ts):\d+/);
    expect(spawnCli(['--help']).stdout).toContain('Usage: adapt');
  });
});

describe('adapt params', () => {
  it('prints tables with thousands separators', async () => {
    const result = await runCli(['params', 'examples/bert-base-houlsby.adapt']);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('one layer                     7,087,872');
    expect(result.stdout).toMatch(
      /sentiment\s+64\s+attn,ffn\s+99,136\s+24\s+1,181,184\s+1,198,080\s+2,379,264\s+2\.80%/,
    );
    expect(result.stdout).toMatch(/trainable\s+2,379,264\s+2\.72% of total/);
  });

  it('prints JSON with --json', async () => {
    const result = await runCli([
      'params',
      'examples/bert-base-fusion.adapt',
      '--graph',
      'both',
      '--json',
    ]);
    const report = JSON.parse(result.stdout) as { graph: string; totals: { adapters: number } };
    expect(report.graph).toBe('both');
    expect(report.totals.adapters).toBe(1_189_632 + 894_528);
  });

  it('rejects an unknown graph with the list of graphs', async () => {
    const result = await runCli(['params', 'examples/bert-base-fusion.adapt', '--graph', 'nope']);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(
      "no graph 'nope'; the graphs are 'default', 'sentiment_only', 'both', 'blend' or 'routed'",
    );
  });

  it('refuses a file with errors, printing them', async () => {
    const result = await runCli(['params', broken]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('error[E0104]');
  });
});
