import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { repoRoot } from './helpers/cli.js';

describe('a reader that closes the pipe early', () => {
  it('ends the CLI quietly with exit 0, as `adapt weights --list | head -1` does', async () => {
    const child = spawn(
      process.execPath,
      [`${repoRoot}bin/adapt.js`, 'compile', 'examples/bert-base-fusion.adapt', '--emit', 'wgsl'],
      { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.stdout.once('data', () => child.stdout.destroy());
    const code = await new Promise<number | null>((done) => child.on('close', done));
    expect(stderr).toBe('');
    expect(code).toBe(0);
  });
});
