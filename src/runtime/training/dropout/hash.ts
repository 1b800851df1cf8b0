/**
 * The dropout mask stream (docs/training.md, "Dropout"): one u32 hash per element of a dropout
 * site, from the run's seed, the step, the site's index and the element's flat index, in u32
 * arithmetic only, so TypeScript, WGSL (codegen/backward/dropout.ts) and the fixture generator
 * (test/fixtures/training/generate.py) compute the same bits.
 */

/** lowbias32 (Chris Wellons' hash-prospector): a bijection of u32 with good avalanche. */
export function mix32(value: number): number {
  let x = value >>> 0;
  x ^= x >>> 16;
  x = Math.imul(x, 0x7feb352d);
  x ^= x >>> 15;
  x = Math.imul(x, 0x846ca68b);
  x ^= x >>> 16;
  return x >>> 0;
}

/** The key of one site at one step: every element's hash starts from it. */
export function dropoutKey(seed: number, step: number, site: number): number {
  return mix32(mix32(mix32(seed) ^ step) ^ site);
}

/** The hash of element `index` under `key`. */
export function dropoutBits(key: number, index: number): number {
  return mix32(mix32(index) ^ key);
}

/**
 * An element is kept where its uniform u = (hash >> 8) / 2^24 is ≥ P, that is where
 * hash >> 8 ≥ ⌈P · 2^24⌉: one integer comparison, exact on every side.
 */
export function keepThreshold(probability: number): number {
  return Math.ceil(probability * 2 ** 24);
}

/** The factor of each element of a site at one step: 0 where dropped, 1/(1 − P) where kept. */
export function dropoutFactors(
  settings: { readonly probability: number; readonly seed: number },
  step: number,
  site: number,
  count: number,
): Float64Array {
  const key = dropoutKey(settings.seed, step, site);
  const threshold = keepThreshold(settings.probability);
  const kept = 1 / (1 - settings.probability);
  const factors = new Float64Array(count);
  for (let i = 0; i < count; i++) factors[i] = dropoutBits(key, i) >>> 8 >= threshold ? kept : 0;
  return factors;
}
