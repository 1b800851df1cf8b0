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

/**
 * A reader that stops early (`adapt weights --list | head`) closes the pipe: the rest of the
 * output has nowhere to go, so the CLI ends quietly, as Unix tools do, instead of crashing.
 */
function endOnClosedPipe(stream: NodeJS.WritableStream): void {
  stream.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code !== 'EPIPE') throw error;
    process.exit(process.exitCode ?? 0);
  });
}

let pipesWatched = false;

export function processIO(): CliIO {
  const forced = process.env.FORCE_COLOR !== undefined && process.env.FORCE_COLOR !== '0';
  const stderr = cliStderr();
  if (!pipesWatched) {
    pipesWatched = true;
    endOnClosedPipe(process.stdout);
  }
  return {
    stdout: (text) => process.stdout.write(text),
    stderr: (text) => stderr.write(text),
    color: forced || (stderr.isTTY === true && process.env.NO_COLOR === undefined),
    cwd: process.cwd(),
  };
}

const CONTROL = /[\p{Cc}\u2028\u2029]/gu;
const NAMED: Readonly<Record<string, string>> = { '\n': '\\n', '\r': '\\r', '\t': '\\t' };

/**
 * Text from the command line or a file name, made safe to print on one line: control characters
 * (a newline, an escape that would recolor the terminal) are written as `\n`, `\x1b`, ….
 */
export function printable(text: string): string {
  return text.replace(
    CONTROL,
    (char) =>
      NAMED[char] ??
      (char.charCodeAt(0) > 0xff
        ? `\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}`
        : `\\x${char.charCodeAt(0).toString(16).padStart(2, '0')}`),
  );
}

/**
 * A user error: printed as one message, never with a stack trace. The message is one line:
 * control characters in the file names and values it quotes are escaped (see printable).
 */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode = 1,
  ) {
    super(printable(message));
  }
}

export const EXIT = { ok: 0, errors: 1, usage: 2 } as const;
