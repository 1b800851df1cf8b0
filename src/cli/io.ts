import { createWriteStream } from 'node:fs';
import { isatty, WriteStream } from 'node:tty';

/** Where a command writes; injectable so tests run the CLI in-process. */
export interface CliIO {
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
  /** Whether to use ANSI colors on stderr (a TTY, unless NO_COLOR is set). */
  readonly color: boolean;
  readonly cwd: string;
}

/** Set in a child whose fd 2 is filtered (`gpu-stderr.ts`): the fd of the real stderr. */
export const CHILD_STDERR_FD = 'ADAPT_CLI_STDERR_FD';

let messages: NodeJS.WritableStream | undefined;

/** Where the CLI's own messages go: stderr, or the real stderr of a filtered child. */
export function cliStderr(): NodeJS.WritableStream & { isTTY?: boolean } {
  if (messages) return messages;
  const fd = Number(process.env[CHILD_STDERR_FD]);
  if (!Number.isInteger(fd) || fd < 3) return process.stderr;
  messages = isatty(fd) ? new WriteStream(fd) : createWriteStream('', { fd, autoClose: false });
  return messages;
}

export function processIO(): CliIO {
  const forced = process.env.FORCE_COLOR !== undefined && process.env.FORCE_COLOR !== '0';
  const stderr = cliStderr();
  return {
    stdout: (text) => process.stdout.write(text),
    stderr: (text) => stderr.write(text),
    color: forced || (stderr.isTTY === true && process.env.NO_COLOR === undefined),
    cwd: process.cwd(),
  };
}

/** A user error: printed as one message, never with a stack trace. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode = 1,
  ) {
    super(message);
  }
}

export const EXIT = { ok: 0, errors: 1, usage: 2 } as const;
