/** Where a command writes; injectable so tests run the CLI in-process. */
export interface CliIO {
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
  /** Whether to use ANSI colors on stderr (a TTY, unless NO_COLOR is set). */
  readonly color: boolean;
  readonly cwd: string;
}

export function processIO(): CliIO {
  const forced = process.env.FORCE_COLOR !== undefined && process.env.FORCE_COLOR !== '0';
  return {
    stdout: (text) => process.stdout.write(text),
    stderr: (text) => process.stderr.write(text),
    color: forced || (process.stderr.isTTY === true && process.env.NO_COLOR === undefined),
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
