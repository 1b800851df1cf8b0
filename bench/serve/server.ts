import { spawn, type ChildProcess } from 'node:child_process';

const LISTENING = /^adapt serve: listening on (http:\/\/\S+)/;
/** How much of the server's stderr is kept, for the message when it fails. */
const STDERR_KEPT = 8000;

/** A server that did not come to listen; `exitCode` where it exited by itself. */
export class ServerStartError extends Error {
  constructor(
    message: string,
    readonly exitCode: number | null,
  ) {
    super(message);
  }
}

export interface ServerProcess {
  readonly url: URL;
  readonly pid: number;
  /** The server's stdout and stderr so far (stderr's last few thousand characters). */
  output(): { stdout: string; stderr: string };
  /** SIGTERM, then the exit code once it has drained (null: killed after `graceMs`). */
  stop(graceMs: number): Promise<number | null>;
}

export interface ServerStart {
  readonly adaptBin: string;
  readonly spec: string;
  /** The options after `serve SPEC` (--port 0 is added). */
  readonly args: readonly string[];
  readonly cwd: string;
  readonly timeoutMs: number;
}

function exited(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(child.exitCode);
  return new Promise((resolve) => child.once('exit', (code) => resolve(code)));
}

/** `adapt serve SPEC --port 0 ARGS…`, resolved once it prints where it listens. */
export function startServer(start: ServerStart): Promise<ServerProcess> {
  const argv = [start.adaptBin, 'serve', start.spec, '--port', '0', ...start.args];
  const child = spawn(process.execPath, argv, {
    cwd: start.cwd,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, NO_COLOR: '1' },
  });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (text: string) => (stdout += text));
  child.stderr.setEncoding('utf8').on('data', (text: string) => {
    stderr = (stderr + text).slice(-STDERR_KEPT);
  });
  const output = () => ({ stdout, stderr });
  const stop = async (graceMs: number) => {
    if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    const code = await exited(child);
    clearTimeout(timer);
    return code;
  };

  return new Promise((resolve, reject) => {
    const fail = (why: string, exitCode: number | null = null) => {
      cleanup();
      child.kill('SIGKILL');
      reject(
        new ServerStartError(`adapt serve ${start.spec}: ${why}\n${stderr.trimEnd()}`, exitCode),
      );
    };
    const onData = () => {
      for (const line of stdout.split('\n')) {
        const match = LISTENING.exec(line);
        if (!match) continue;
        cleanup();
        resolve({ url: new URL(match[1]!), pid: child.pid!, output, stop });
        return;
      }
    };
    const onExit = (code: number | null, signal: string | null) =>
      fail(`exited (${signal ?? `code ${code}`}) before it listened`, code);
    const onError = (error: Error) => fail(error.message);
    const timer = setTimeout(
      () => fail(`did not listen within ${start.timeoutMs / 1000} s`),
      start.timeoutMs,
    );
    const cleanup = () => {
      clearTimeout(timer);
      child.stdout.off('data', onData);
      child.off('exit', onExit);
      child.off('error', onError);
    };
    child.stdout.on('data', onData);
    child.once('exit', onExit);
    child.once('error', onError);
  });
}
