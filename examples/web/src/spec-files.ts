import type { ReadFile } from '../../../src/compiler/index.js';
import type { TensorMap } from '../../../src/runtime/index.js';
import type { LoadedSavedDirectory } from './adapterhub-directory.js';
import type { LoadedCheckpoint } from './checkpoint.js';
import { normalizeDir } from './checkpoint-source.js';

/**
 * The files the page has loaded for specs: one checkpoint directory, extra weight files
 * (adapters, fusions) that the checkpoint does not hold, and AdapterHub directories.
 */

let checkpoint: LoadedCheckpoint | undefined;
let extraWeights: readonly { readonly name: string; readonly tensors: TensorMap }[] = [];
/** In the order loaded; a directory loaded again replaces the earlier one of its name. */
let savedDirectories: readonly LoadedSavedDirectory[] = [];

export function useCheckpoint(loaded: LoadedCheckpoint): void {
  checkpoint = loaded;
}

export function useExtraWeights(files: readonly { name: string; tensors: TensorMap }[]): void {
  extraWeights = files;
}

/** The AdapterHub directories specs read, in place of those loaded before. */
export function useSavedDirectories(loaded: readonly LoadedSavedDirectory[]): void {
  savedDirectories = [...loaded];
}

/** Loaded AdapterHub directories added to the earlier ones; one of the same dir replaces it. */
export function addSavedDirectories(loaded: readonly LoadedSavedDirectory[]): void {
  const dirs = new Set(loaded.map((directory) => normalizeDir(directory.dir)));
  savedDirectories = [
    ...savedDirectories.filter((directory) => !dirs.has(normalizeDir(directory.dir))),
    ...loaded,
  ];
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

/** How many last segments two directories share: `a/b/c` and `x/b/c` share 2. */
function sharedTail(a: string, b: string): number {
  const left = a.split('/').reverse();
  const right = b.split('/').reverse();
  let shared = 0;
  while (shared < left.length && left[shared] !== '..' && left[shared] === right[shared]) shared++;
  return shared;
}

/**
 * The loaded AdapterHub directory that `adapter/head/fusion NAME from "DIR"` names: the same
 * directory, else the one sharing the most last segments with DIR (at least the last one; of
 * equals, the one loaded last), as `checkpointFor` matches the checkpoint.
 */
export function savedDirectoryFor(dir: string): LoadedSavedDirectory | undefined {
  const wanted = normalizeDir(dir);
  let best: { directory: LoadedSavedDirectory; shared: number } | undefined;
  for (const directory of savedDirectories) {
    const loaded = normalizeDir(directory.dir);
    const shared = loaded === wanted ? Infinity : sharedTail(wanted, loaded);
    if (shared > 0 && shared >= (best?.shared ?? 0)) best = { directory, shared };
  }
  return best?.directory;
}

/**
 * The compiler's reader: `DIR/config.json` of the loaded checkpoint, and `DIR/adapter_config.json`,
 * `DIR/head_config.json`, `DIR/adapter_fusion_config.json` of a loaded AdapterHub directory;
 * nothing else.
 */
export const readSpecFile: ReadFile = (path) => {
  const match = /^(?:(.*)\/)?([^/]+)$/.exec(path);
  if (!match) return undefined;
  const [, dir = '', name] = match;
  if (name === 'config.json') return checkpointFor(dir)?.config;
  return savedDirectoryFor(dir)?.configs.get(name!);
};
