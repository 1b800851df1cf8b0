import { keepThreshold } from '../../../runtime/training/dropout/hash.js';
import type { Shape } from '../../../runtime/program.js';
import { bindings, f32 } from '../wgsl.js';
import { countExpr, groupsFor, perElementEntry } from './common.js';
import type { BackwardRead } from './types.js';

/** The binding of the run's seed and the step's number, [seed, step] as u32. */
export const DROPOUT_READ: BackwardRead = { kind: 'dropout' };
export const DROPOUT_BINDING = 'dropout';

/** The dropout of one site: its index in the mask stream and the run's probability. */
export interface SiteDropout {
  readonly site: number;
  readonly probability: number;
}

/**
 * The mask stream of runtime/training/dropout/hash.ts in WGSL, with the `dropout` binding:
 * dropout_factor(key, i) is 0 or 1/(1 − P) exactly as dropoutFactors computes it (the factor in
 * f32), for the key dropout_key(site) of this step.
 */
export function dropoutFunctions(probability: number): string {
  return `fn mix32(value: u32) -> u32 {
  var x = value;
  x = x ^ (x >> 16u);
  x = x * 0x7feb352du;
  x = x ^ (x >> 15u);
  x = x * 0x846ca68bu;
  x = x ^ (x >> 16u);
  return x;
}
fn dropout_key(site: u32) -> u32 { return mix32(mix32(mix32(dropout[0]) ^ dropout[1]) ^ site); }
fn dropout_factor(key: u32, index: u32) -> f32 {
  return select(0.0, ${f32(1 / (1 - probability))}, (mix32(mix32(index) ^ key) >> 8u) >= ${keepThreshold(probability)}u);
}`;
}

/**
 * x ⊙ mask in place over a value of `shape`: the forward pass drops a site's output with it,
 * and the backward pass the gradient of that output (the same factors, recomputed, no mask kept).
 */
export function dropoutKernel(
  shape: Shape,
  dropout: SiteDropout,
): { name: string; wgsl: string; groups: ReturnType<typeof groupsFor> } {
  const wgsl = `${bindings([DROPOUT_BINDING, 'out'], ['u32', 'f32'])}
${dropoutFunctions(dropout.probability)}

${perElementEntry(countExpr(shape))}
  out[i] = out[i] * dropout_factor(dropout_key(${dropout.site}u), i);
}
`;
  return { name: `dropout_${dropout.site}_${shape.join('x')}`, wgsl, groups: groupsFor(shape) };
}

/**
 * pm(sequence, head, i, j): the factor of probability P_ij of `head` in `sequence`, element
 * ((b·H + h)·T + i)·T + j of the site's [B, H, T, T] (the attention constants' HEADS).
 */
export const probabilityFactor = (site: number): string =>
  `fn pm(sequence: u32, head: u32, i: u32, j: u32) -> f32 {
  return dropout_factor(dropout_key(${site}u), ((sequence * HEADS + head) * params.seq + i) * params.seq + j);
}`;
