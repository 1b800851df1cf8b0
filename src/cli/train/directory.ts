import { existsSync, mkdirSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import type { Model } from '../../compiler/index.js';
import type { Program } from '../../runtime/program.js';
import { saveSafetensors, type SafetensorsEntry } from '../../runtime/safetensors.js';
import { SaveError, trainedDirectoryFiles } from '../../runtime/adapterhub/save/index.js';
import type { TrainTarget } from '../../runtime/training/trainable.js';
import { describeFsError } from '../fs-errors.js';
import { CliError, EXIT } from '../io.js';

export interface NamedFile {
  readonly name: string;
  readonly bytes: Uint8Array;
}

/** The trained tensors under the program's names: what --resume reads back, exactly. */
export const TRAINED_WEIGHTS_FILE = 'trained_weights.safetensors';

/**
 * The files of a trained directory: what the adapters library's `save_adapter` (with its head)
 * or `save_adapter_fusion` writes (unless `hub` is false), and the trained tensors under the
 * program's names.
 */
export function trainedFiles(
  model: Model,
  program: Program,
  target: TrainTarget,
  weights: ReadonlyMap<string, Float32Array>,
  trained: readonly string[],
  hub = true,
): NamedFile[] {
  const tensors = trained.map((name): [string, SafetensorsEntry] => {
    const data = weights.get(name)!;
    const shape = program.weights.find((w) => w.name === name)!.shape;
    return [name, { shape, data }];
  });
  const own = { name: TRAINED_WEIGHTS_FILE, bytes: saveSafetensors(tensors) };
  return hub ? [...trainedDirectoryFiles(model, program, target, weights), own] : [own];
}

/**
 * Why the target cannot be written as an AdapterHub directory (an article-semantics fusion, which
 * no AdapterFusionConfig computes), or undefined: asked before training, not after it.
 */
export function hubSaveProblem(
  model: Model,
  program: Program,
  target: TrainTarget,
  weights: ReadonlyMap<string, Float32Array>,
): string | undefined {
  try {
    trainedDirectoryFiles(model, program, target, weights);
    return undefined;
  } catch (error) {
    if (error instanceof SaveError) return error.message;
    throw error;
  }
}

/** Fails unless `dir` does not exist or is an empty directory: a run never overwrites. */
export function requireNewDirectory(cwd: string, dir: string, option: string): void {
  const absolute = resolve(cwd, dir);
  let entries: string[];
  try {
    if (!statSync(absolute).isDirectory())
      throw new CliError(`adapt: error: ${option} ${dir} is not a directory`, EXIT.usage);
    entries = readdirSync(absolute);
  } catch (error) {
    if (error instanceof CliError) throw error;
    if ((error as { code?: string }).code === 'ENOENT') return requireParent(absolute, dir);
    throw new CliError(`${dir}: error: cannot read the directory (${describeFsError(error)})`);
  }
  if (entries.length > 0)
    throw new CliError(
      `adapt: error: ${option} ${dir} is not empty; give a new or empty directory (a run never overwrites)`,
      EXIT.usage,
    );
}

function requireParent(absolute: string, dir: string): void {
  try {
    if (statSync(dirname(absolute)).isDirectory()) return;
  } catch {
    // Reported below.
  }
  throw new CliError(
    `${dir}: error: cannot write: the directory ${dirname(absolute)} does not exist`,
  );
}

/**
 * Creates `dir` and the directories above it that do not exist, one at a time: Node's
 * `mkdirSync(…, { recursive: true })` spins forever where mkdir answers ENOENT under a directory
 * that exists (as in /proc), and a run must fail there with a message, not hang after training.
 */
export function createDirectory(cwd: string, dir: string): void {
  try {
    makeDirectories(resolve(cwd, dir));
  } catch (error) {
    throw new CliError(`${dir}: error: cannot write (${describeFsError(error)})`);
  }
}

function makeDirectories(absolute: string): void {
  const missing: string[] = [];
  for (let path = absolute; !existsSync(path); path = dirname(path)) missing.unshift(path);
  for (const path of missing) mkdirSync(path);
}

/** Writes the files into `dir` (created), each new: an existing file is never replaced. */
export function writeDirectory(cwd: string, dir: string, files: readonly NamedFile[]): void {
  const absolute = resolve(cwd, dir);
  try {
    for (const file of files) {
      const path = join(absolute, file.name);
      makeDirectories(dirname(path));
      writeFileSync(path, file.bytes, { flag: 'wx' });
    }
  } catch (error) {
    throw new CliError(`${dir}: error: cannot write (${describeFsError(error)})`);
  }
}
