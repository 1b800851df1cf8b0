import type { ReadFile } from '../../../src/compiler/index.js';
import type { TensorMap } from '../../../src/runtime/index.js';
import type { LoadedCheckpoint } from './checkpoint.js';
import { normalizeDir } from './checkpoint-source.js';

/**
 * The files the page has loaded for specs: one checkpoint directory, and extra weight files
 * (adapters, fusions) that the checkpoint does not hold.
 */

let checkpoint: LoadedCheckpoint | undefined;
let extraWeights: readonly { readonly name: string; readonly tensors: TensorMap }[] = [];

export function useCheckpoint(loaded: LoadedCheckpoint): void {
  checkpoint = loaded;
}

export function useExtraWeights(files: readonly { name: string; tensors: TensorMap }[]): void {
  extraWeights = files;
}

export function loadedExtraWeights(): readonly TensorMap[] {
  return extraWeights.map((file) => file.tensors);
}

const lastSegment = (dir: string) => dir.slice(dir.lastIndexOf('/') + 1);

/**
 * The loaded checkpoint if it is the one `model NAME from "DIR"` names: the same directory, or
 * one whose last segment is DIR's (a spec's directory is relative to the spec, which has no place
 * in the page).
 */
export function checkpointFor(dir: string): LoadedCheckpoint | undefined {
  if (!checkpoint) return undefined;
  const wanted = normalizeDir(dir);
  const loaded = normalizeDir(checkpoint.dir);
  return wanted === loaded || lastSegment(wanted) === lastSegment(loaded) ? checkpoint : undefined;
}

/** The compiler's reader: `DIR/config.json` of the loaded checkpoint, nothing else. */
export const readSpecFile: ReadFile = (path) => {
  const match = /^(.*?)\/?config\.json$/.exec(path);
  if (!match) return undefined;
  return checkpointFor(match[1]!)?.config;
};
