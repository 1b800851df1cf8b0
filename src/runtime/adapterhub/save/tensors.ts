import type { Program } from '../../program.js';
import type { SafetensorsEntry } from '../../safetensors.js';
import { SaveError } from './error.js';

/** A program weight to save, and the name the library's state dict gives it. */
export interface SavedTensor {
  readonly weight: string;
  readonly saved: string;
}

/**
 * The program's weights whose name holds `marker` (`.adapters.NAME.`, `heads.NAME.`, …) as the
 * library's `filter_func` picks them, each renamed: `marker` becomes `savedMarker` and `prefix`
 * goes in front (the base model's module for adapters and fusions; heads sit beside it).
 */
export function savedTensorNames(
  program: Program,
  marker: string,
  savedMarker: string,
  prefix: string,
): SavedTensor[] {
  return program.weights
    .filter((w) => w.name.includes(marker))
    .map((w) => ({ weight: w.name, saved: prefix + w.name.replace(marker, savedMarker) }));
}

/**
 * The tensors of a weights file: each saved name with its program weight's shape and values. An
 * adapter with `ln_before` keeps its LayerNorm twice in the state dict, as `adapter_norm_before`
 * and as `adapter_down.0` of the Sequential around it (`Adapter.__init__`), so both are written.
 */
export function savedEntries(
  program: Program,
  names: readonly SavedTensor[],
  weights: ReadonlyMap<string, Float32Array>,
  what: string,
): Map<string, SafetensorsEntry> {
  const shapes = new Map(program.weights.map((w) => [w.name, w.shape]));
  const entries = new Map<string, SafetensorsEntry>();
  for (const { weight, saved } of names) {
    const data = weights.get(weight);
    const shape = shapes.get(weight)!;
    if (!data) throw new SaveError(`${what}: no values for tensor '${weight}'`);
    const count = shape.reduce((a, b) => a * b, 1);
    if (data.length !== count)
      throw new SaveError(
        `${what}: tensor '${weight}' has ${data.length} values, its shape [${shape.join(', ')}] ${count}`,
      );
    entries.set(saved, { shape, data });
    const twin = /^(.*\.)adapter_norm_before\.(weight|bias)$/.exec(saved);
    if (twin) entries.set(`${twin[1]!}adapter_down.0.${twin[2]!}`, { shape, data });
  }
  return entries;
}
