import type { KernelSpec } from '../../runtime/program.js';

/**
 * The distinct kernels of a training plan, the forward plan's first: one per WGSL text, and a
 * name seen before with other WGSL is a bug in a template (equal names must mean equal WGSL).
 */
export class KernelList {
  readonly kernels: KernelSpec[];
  private readonly byWgsl = new Map<string, number>();
  private readonly byName = new Map<string, number>();

  constructor(initial: readonly KernelSpec[]) {
    this.kernels = [];
    for (const kernel of initial) this.indexOf(kernel);
  }

  indexOf(kernel: KernelSpec): number {
    const known = this.byWgsl.get(kernel.wgsl);
    if (known !== undefined) return known;
    if (this.byName.has(kernel.name)) {
      throw new Error(`kernel '${kernel.name}' is emitted with two different WGSL texts`);
    }
    const index = this.kernels.length;
    this.kernels.push(kernel);
    this.byWgsl.set(kernel.wgsl, index);
    this.byName.set(kernel.name, index);
    return index;
  }
}
