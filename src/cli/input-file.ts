import { closeSync, constants, fstatSync, openSync, readSync, statSync, type Stats } from 'node:fs';
import { constants as bufferConstants } from 'node:buffer';
import { totalmem } from 'node:os';
import { resolve } from 'node:path';
import { formatBytes } from '../runtime/memory.js';
import { describeFsError, describeKind } from './fs-errors.js';
import { CliError } from './io.js';
import { thousands } from './table.js';
import { decodeUtf8 } from './utf8.js';

/** The largest `.adapt` spec read: real specs are a few KiB; this keeps a stray file harmless. */
export const MAX_SPEC_BYTES = 16 * 2 ** 20;

/**
 * The largest weight or input file read: the largest buffer Node allocates (4 GiB in Node 20),
 * and never more than the machine's memory.
 */
export function maxTensorFileBytes(): number {
  return Math.min(bufferConstants.MAX_LENGTH, totalmem());
}

/** A file as given on the command line, and what kind of file it is, in messages. */
export interface InputFile {
  readonly path: string;
  /** `a .adapt spec`, `a weight or input file`. */
  readonly what: string;
  readonly maxBytes: number;
}

const cannotRead = (path: string, reason: string) =>
  new CliError(`${path}: error: cannot read file (${reason})`);

function requireRegular(path: string, stats: Stats): void {
  if (!stats.isFile()) throw cannotRead(path, `it is ${describeKind(stats)}, not a regular file`);
}

/**
 * Reads a whole file named on the command line. Anything but a regular file (a directory, a
 * named pipe, /dev/zero) and anything larger than `maxBytes` is refused before a byte is read.
 */
export function readInputFile(cwd: string, file: InputFile): Uint8Array {
  const absolute = resolve(cwd, file.path);
  let fd: number;
  try {
    // Checked before opening: opening a named pipe would wait for a writer.
    requireRegular(file.path, statSync(absolute));
    fd = openSync(absolute, constants.O_RDONLY | (constants.O_NONBLOCK ?? 0));
  } catch (error) {
    if (error instanceof CliError) throw error;
    throw cannotRead(file.path, describeFsError(error));
  }
  try {
    const stats = fstatSync(fd);
    requireRegular(file.path, stats);
    if (stats.size > file.maxBytes) {
      // Exact counts where the rounded sizes would read the same (16.0 MiB, at most 16.0 MiB).
      const [size, limit] = [formatBytes(stats.size), formatBytes(file.maxBytes)];
      const exact = size === limit;
      throw new CliError(
        `${file.path}: error: the file is ${exact ? `${thousands(stats.size)} bytes` : size}; ${file.what} may be at most ${exact ? `${thousands(file.maxBytes)} bytes (${limit})` : limit}`,
      );
    }
    return readExactly(fd, stats.size, file.path);
  } catch (error) {
    if (error instanceof CliError) throw error;
    throw cannotRead(file.path, describeFsError(error));
  } finally {
    closeSync(fd);
  }
}

/** Reads `size` bytes; a file that grows or shrinks while it is read is an error. */
function readExactly(fd: number, size: number, path: string): Uint8Array {
  const bytes = new Uint8Array(size);
  const chunk = 2 ** 30;
  let offset = 0;
  while (offset < size) {
    const read = readSync(fd, bytes, offset, Math.min(chunk, size - offset), offset);
    if (read === 0) break;
    offset += read;
  }
  const more = offset === size && readSync(fd, new Uint8Array(1), 0, 1, size) !== 0;
  if (more && size === 0) {
    throw cannotRead(
      path,
      'it reports a size of 0 but holds data, as /proc files do; copy it first',
    );
  }
  if (offset !== size || more) {
    throw cannotRead(path, 'it changed while it was read');
  }
  return bytes;
}

/** Reads a `.adapt` spec: at most MAX_SPEC_BYTES of strict UTF-8 (a leading BOM is dropped). */
export function readTextFile(cwd: string, path: string): string {
  const bytes = readInputFile(cwd, { path, what: 'a .adapt spec', maxBytes: MAX_SPEC_BYTES });
  return decodeUtf8(bytes, path);
}

/** Reads a weight or input file (safetensors) whole, up to maxTensorFileBytes(). */
export function readBinaryFile(cwd: string, path: string): Uint8Array {
  return readInputFile(cwd, {
    path,
    what: 'a weight or input file',
    maxBytes: maxTensorFileBytes(),
  });
}
