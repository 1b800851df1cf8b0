import { randomBytes } from 'node:crypto';
import {
  accessSync,
  chmodSync,
  constants,
  linkSync,
  lstatSync,
  realpathSync,
  renameSync,
  statSync,
  unlinkSync,
  writeFileSync,
  type Stats,
} from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { describeFsError, describeKind } from './fs-errors.js';
import { CliError, EXIT } from './io.js';

/**
 * Every file a command writes goes through here (docs/architecture.md, "CLI"):
 *
 * - it is never one of the command's inputs, even with --force (compared by device and inode,
 *   so a symbolic or hard link to an input is caught too);
 * - an existing file is replaced only with --force, whoever wrote it;
 * - a regular file is written to a temporary file beside it and renamed over the target, so a
 *   failed run leaves no half-written file, and the temporary file is removed on failure;
 * - a character device or a named pipe (/dev/null, /dev/stdout, a shell's `>(…)`) is written in
 *   place: it holds no file to lose;
 * - the target is checked before the command does its work.
 */

/** A path named by an option: `--weights x.safetensors`, or the spec (`the spec`). */
export interface NamedPath {
  readonly option: string;
  readonly path: string;
}

export interface OutputTarget {
  readonly option: string;
  /** As given on the command line, for messages. */
  readonly path: string;
  /** Where the bytes go: an existing link is followed to the file it names. */
  readonly absolute: string;
  /** `stream`: a device or pipe, written in place. */
  readonly kind: 'file' | 'stream';
  /** Whether the target may be replaced (it did not exist, or --force was given). */
  readonly replace: boolean;
  /** The permissions of the file replaced, kept by the new one. */
  readonly mode?: number;
}

const usage = (message: string) => new CliError(`adapt: error: ${message}`, EXIT.usage);
const cannotWrite = (path: string, reason: string) =>
  new CliError(`${path}: error: cannot write file (${reason})`);

function statOrUndefined(path: string, follow: boolean): Stats | undefined {
  try {
    return follow ? statSync(path) : lstatSync(path);
  } catch (error) {
    if ((error as { code?: string }).code === 'ENOENT') return undefined;
    throw error;
  }
}

function requireNotAnInput(
  output: NamedPath,
  stats: Stats,
  cwd: string,
  inputs: readonly NamedPath[],
): void {
  for (const input of inputs) {
    const inputStats = statOrUndefined(resolve(cwd, input.path), true);
    if (inputStats && inputStats.dev === stats.dev && inputStats.ino === stats.ino) {
      throw usage(
        `${output.option} ${output.path} is one of this command's inputs (${input.option}); choose another path`,
      );
    }
  }
}

function requireWritableDirectory(output: NamedPath, directory: string): void {
  const stats = statOrUndefined(directory, true);
  if (!stats) throw cannotWrite(output.path, `the directory ${directory} does not exist`);
  if (!stats.isDirectory()) throw cannotWrite(output.path, `${directory} is not a directory`);
  try {
    accessSync(directory, constants.W_OK);
  } catch {
    throw cannotWrite(output.path, `the directory ${directory} is not writable`);
  }
}

/**
 * Checks where a command will write, before it does its work: fails with one message if the
 * path is an input, exists without `force`, is not a regular file, or its directory is missing
 * or not writable.
 */
export function prepareOutput(
  cwd: string,
  output: NamedPath,
  inputs: readonly NamedPath[],
  force?: boolean,
): OutputTarget;
/** For an optional output option: nothing to prepare when it was not given. */
export function prepareOutput(
  cwd: string,
  output: { readonly option: string; readonly path: string | undefined },
  inputs: readonly NamedPath[],
  force?: boolean,
): OutputTarget | undefined;
export function prepareOutput(
  cwd: string,
  { option, path }: { readonly option: string; readonly path: string | undefined },
  inputs: readonly NamedPath[],
  force = false,
): OutputTarget | undefined {
  return path === undefined ? undefined : prepareGiven(cwd, { option, path }, inputs, force);
}

function prepareGiven(
  cwd: string,
  output: NamedPath,
  inputs: readonly NamedPath[],
  force: boolean,
): OutputTarget {
  const given = resolve(cwd, output.path);
  try {
    const stats = statOrUndefined(given, true);
    if (!stats) {
      if (statOrUndefined(given, false)) {
        throw cannotWrite(output.path, 'it is a symbolic link to a file that does not exist');
      }
      requireWritableDirectory(output, dirname(given));
      return {
        option: output.option,
        path: output.path,
        absolute: given,
        kind: 'file',
        replace: false,
      };
    }
    if (stats.isCharacterDevice() || stats.isFIFO()) {
      return {
        option: output.option,
        path: output.path,
        absolute: given,
        kind: 'stream',
        replace: true,
      };
    }
    if (!stats.isFile()) throw cannotWrite(output.path, `it is ${describeKind(stats)}`);
    requireNotAnInput(output, stats, cwd, inputs);
    if (!force) throw usage(`${output.path} exists; pass --force to replace it`);
    const absolute = realpathSync(given);
    requireWritableDirectory(output, dirname(absolute));
    return {
      option: output.option,
      path: output.path,
      absolute,
      kind: 'file',
      replace: true,
      mode: stats.mode & 0o7777,
    };
  } catch (error) {
    if (error instanceof CliError) throw error;
    throw cannotWrite(output.path, describeFsError(error));
  }
}

/** Writes the whole output: all of it or, on failure, nothing (see the module comment). */
export function writeOutput(target: OutputTarget, content: string | Uint8Array): void {
  if (target.kind === 'stream') {
    try {
      writeFileSync(target.absolute, content);
    } catch (error) {
      throw cannotWrite(target.path, describeFsError(error));
    }
    return;
  }
  const temporary = join(
    dirname(target.absolute),
    `.${basename(target.absolute)}.${process.pid}-${randomBytes(4).toString('hex')}.tmp`,
  );
  try {
    writeFileSync(temporary, content, { flag: 'wx', mode: target.mode ?? 0o666 });
    if (target.mode !== undefined) chmodSync(temporary, target.mode);
    if (target.replace) renameSync(temporary, target.absolute);
    else placeNew(temporary, target);
  } catch (error) {
    removeQuietly(temporary);
    if (error instanceof CliError) throw error;
    throw cannotWrite(target.path, describeFsError(error));
  }
}

/**
 * Moves the finished file to a target that did not exist when the command started: a hard link
 * fails if another process created the target meanwhile, so nothing is replaced unasked.
 */
function placeNew(temporary: string, target: OutputTarget): void {
  try {
    linkSync(temporary, target.absolute);
  } catch (error) {
    // EEXIST, or a file system without hard links: rename if nothing is there still.
    if ((error as { code?: string }).code === 'EEXIST' || statOrUndefined(target.absolute, false)) {
      throw usage(`${target.path} exists; pass --force to replace it`);
    }
    renameSync(temporary, target.absolute);
    return;
  }
  unlinkSync(temporary);
}

function removeQuietly(path: string): void {
  try {
    unlinkSync(path);
  } catch {
    // Already gone, or never created.
  }
}
