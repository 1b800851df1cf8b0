import { dropoutFactors } from '../../training/dropout/hash.js';
import type { DropoutSettings, DropoutSite } from '../../training/dropout/sites.js';

/** Dropout of one training step: the program's sites, the run's settings and the step's number. */
export interface StepDropout {
  readonly sites: readonly DropoutSite[];
  readonly settings: DropoutSettings;
  /** The step (from 0) whose masks these are. */
  readonly step: number;
}

/**
 * The factors one forward pass applied (0 or 1/(1 − P) per element), by node: of an output
 * site over the node's elements, of an attention site over its probabilities [B, H, T, T].
 * The backward pass applies the same ones, and reads an output site's value before dropout.
 */
export interface AppliedDropout {
  readonly outputs: ReadonlyMap<number, Float64Array>;
  readonly attention: ReadonlyMap<number, Float64Array>;
  readonly undropped: ReadonlyMap<number, Float64Array>;
}

/** The factors of one site at one step over `count` elements. */
export function siteFactors(dropout: StepDropout, site: DropoutSite, count: number): Float64Array {
  return dropoutFactors(dropout.settings, dropout.step, site.index, count);
}

/** x ⊙ factors, a new array. */
export function dropped(data: Float64Array, factors: Float64Array): Float64Array {
  return Float64Array.from(data, (x, i) => x * factors[i]!);
}
