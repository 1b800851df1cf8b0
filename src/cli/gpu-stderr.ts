import { spawn } from 'node:child_process';
import { constants } from 'node:os';
import { DAWN_ADAPTER_WARNING } from '../runtime/webgpu/acquire.js';
import { CHILD_STDERR_FD } from './io.js';

/**
 * Dawn prints two limit warnings on file descriptor 2 from native code whenever it opens a
 * lavapipe adapter, and nothing in JavaScript can silence them (docs/design.md §6). Commands that
 * open a GPU therefore run in a child process whose fd 2 is a pipe that this module filters; the
 * child writes its own messages to fd 3, the terminal's stderr, so colors and progress bars work.
 */

/** Whether the command line may open a WebGPU adapter. */
export function opensGpu(argv: readonly string[]): boolean {
  if (process.env[CHILD_STDERR_FD] !== undefined) return false;
  if (!['run', 'bench', 'train', 'serve'].includes(argv[0] ?? '')) return false;
  const backend = argv.findIndex((arg) => arg === '--backend' || arg.startsWith('--backend='));
  if (backend < 0) return true;
  const value = argv[backend]!.includes('=') ? argv[backend]!.split('=')[1] : argv[backend + 1];
  return value !== 'cpu';
}

/** Runs `script argv` in a child with Dawn's warnings removed from its stderr; its exit code. */
export function runWithFilteredStderr(script: string, argv: readonly string[]): Promise<number> {
  const child = spawn(process.execPath, [...process.execArgv, script, ...argv], {
    stdio: ['inherit', 'inherit', 'pipe', 2],
    env: { ...process.env, [CHILD_STDERR_FD]: '3' },
  });
  let pending = '';
  child.stderr!.setEncoding('utf8');
  child.stderr!.on('data', (chunk: string) => {
    const lines = (pending + chunk).split('\n');
    pending = lines.pop()!;
    const kept = lines.filter((line) => !DAWN_ADAPTER_WARNING.test(line));
    if (kept.length > 0) process.stderr.write(kept.map((line) => `${line}\n`).join(''));
  });
  child.stderr!.on('end', () => {
    if (pending && !DAWN_ADAPTER_WARNING.test(pending)) process.stderr.write(pending);
  });
  // Ctrl-C reaches the whole process group: the child handles it, this process waits for it.
  const forward = (signal: NodeJS.Signals) => () => child.kill(signal);
  process.on('SIGINT', () => {});
  process.on('SIGTERM', forward('SIGTERM'));
  process.on('SIGHUP', forward('SIGHUP'));
  return new Promise((resolve) => {
    child.on('error', (error) => {
      process.stderr.write(`adapt: error: cannot start the GPU process (${error.message})\n`);
      resolve(1);
    });
    child.on('close', (code, signal) =>
      resolve(signal ? 128 + constants.signals[signal] : (code ?? 1)),
    );
  });
}
