import { readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { CliError } from './io.js';

/** Reads a text file named on the command line; a missing or unreadable file is a user error. */
export function readTextFile(cwd: string, path: string): string {
  try {
    return readFileSync(resolve(cwd, path), 'utf8');
  } catch (error) {
    throw new CliError(`${path}: error: cannot read file (${describeFsError(error)})`);
  }
}

export function readBinaryFile(cwd: string, path: string): Uint8Array {
  try {
    return readFileSync(resolve(cwd, path));
  } catch (error) {
    throw new CliError(`${path}: error: cannot read file (${describeFsError(error)})`);
  }
}

/** Writes a file named on the command line; failure is a user error naming the file. */
export function writeOutputFile(cwd: string, path: string, content: string | Uint8Array): void {
  try {
    writeFileSync(resolve(cwd, path), content);
  } catch (error) {
    throw new CliError(`${path}: error: cannot write file (${describeFsError(error)})`);
  }
}

export function describeFsError(error: unknown): string {
  const code = (error as { code?: string }).code;
  const reasons: Record<string, string> = {
    ENOENT: 'no such file',
    EISDIR: 'it is a directory',
    EACCES: 'permission denied',
  };
  return (code && reasons[code]) ?? (error instanceof Error ? error.message : String(error));
}
