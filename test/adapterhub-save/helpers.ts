import { existsSync, readFileSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import { compile, type Model } from '../../src/compiler/index.js';
import { readCheckpoint } from '../../src/cli/checkpoint-files.js';
import { readSavedWeights } from '../../src/cli/saved-weights.js';
import type { Program } from '../../src/runtime/program.js';
import type { TensorMap } from '../../src/runtime/safetensors.js';
import { bindWeights } from '../../src/runtime/weights.js';

export const ROOT = 'test/fixtures/adapterhub';
export const SPECS = join(ROOT, 'specs');

export interface FixtureCase {
  readonly name: string;
  readonly adapters: Readonly<Record<string, { directory: string; weights: string }>>;
  readonly head?: { directory: string; name: string; weights: string };
  readonly fusion?: { directory: string; name: string; weights: string };
}

export const CASES: readonly FixtureCase[] = (
  JSON.parse(readFileSync(join(ROOT, 'cases.json'), 'utf8')) as { cases: FixtureCase[] }
).cases;

/** Compiles a spec whose paths are relative to specs/ (or absolute), as `adapt run` reads it. */
export function compileSpec(source: string, path: string): { program: Program; model: Model } {
  const compiled = compile(source, {
    fileName: path,
    fuse: false,
    gpu: false,
    readFile: (file) => {
      const full = isAbsolute(file) ? file : join(SPECS, file);
      return existsSync(full) ? readFileSync(full, 'utf8') : undefined;
    },
  });
  const errors = compiled.diagnostics.filter((d) => d.severity === 'error');
  if (errors.length > 0) throw new Error(errors.map((d) => d.message).join('\n'));
  return { program: compiled.program!, model: compiled.model! };
}

/** The files `adapt run` reads: the checkpoint's weights, then each saved directory's, renamed. */
export function runFiles(model: Model, program: Program, path: string): TensorMap[] {
  const checkpoint = readCheckpoint('.', path, model.base.checkpoint!.dir, { tokenizer: false });
  return [checkpoint.weights.tensors, ...readSavedWeights('.', path, model, program.graph).tensors];
}

/** Those files bound to the program's weights by name. */
export function runWeights(
  model: Model,
  program: Program,
  path: string,
): Map<string, Float32Array> {
  return new Map(bindWeights(program, runFiles(model, program, path)).tensors);
}
