import type { KernelSpec } from '../../runtime/program.js';
import type { KernelEmission } from './kernel.js';

/** The distinct kernels of a plan, one per WGSL text, so one pipeline serves every layer. */
export interface KernelTable {
  readonly kernels: readonly KernelSpec[];
  /** The index of the kernel of `emission`, which `emitter` (a node, for errors) made. */
  indexOf(emission: KernelEmission, emitter: string): number;
}

/**
 * A kernel table that holds templates to their promise that equal names mean equal WGSL: a name
 * seen before with other WGSL is a bug in a template, and names both kernels' emitters.
 */
export function kernelTable(): KernelTable {
  const kernels: KernelSpec[] = [];
  const byWgsl = new Map<string, number>();
  const emitterOf = new Map<string, string>();
  return {
    kernels,
    indexOf(emission, emitter) {
      const known = byWgsl.get(emission.wgsl);
      if (known !== undefined) return known;
      const clash = emitterOf.get(emission.name);
      if (clash !== undefined) {
        throw new Error(
          `kernel '${emission.name}' of ${emitter} differs in WGSL from the kernel of that name of ${clash}; equal names must mean equal WGSL`,
        );
      }
      const index = kernels.length;
      kernels.push({
        name: emission.name,
        wgsl: emission.wgsl,
        storageBindings: emission.args.length + 1,
      });
      byWgsl.set(emission.wgsl, index);
      emitterOf.set(emission.name, emitter);
      return index;
    },
  };
}
