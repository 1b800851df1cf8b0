import { describe, expect, it } from 'vitest';
import { seededUniform } from '../../src/runtime/random.js';
import {
  dropoutBits,
  dropoutFactors,
  dropoutKey,
  keepThreshold,
} from '../../src/runtime/training/dropout/hash.js';
import { activeDropout, dropoutSites } from '../../src/runtime/training/dropout/sites.js';
import { loadTrainingCase } from '../helpers/training-cases.js';

describe('the dropout sites of a program', () => {
  it.each(['seq-bn-dropout', 'fusion-dropout'] as const)(
    'are the places PyTorch dropped at in %s, in its order',
    (name) => {
      const c = loadTrainingCase(name, { gpu: false });
      expect(dropoutSites(c.program).map((s) => s.place)).toEqual(c.config.dropout_sites);
    },
  );

  it('number the sites by node, one kind of site per node', () => {
    const c = loadTrainingCase('fusion-dropout', { gpu: false });
    const sites = dropoutSites(c.program);
    expect(sites.map((s) => s.index)).toEqual(sites.map((_, i) => i));
    for (let i = 1; i < sites.length; i++)
      expect(sites[i]!.node).toBeGreaterThan(sites[i - 1]!.node);
    for (const site of sites.filter((s) => s.kind === 'attention'))
      expect(c.program.nodes[site.node]!.op).toBe('attention');
    // The fusion mixes the adapters' ups before their dropout: no adapter site under it.
    expect(sites.some((s) => s.place === 'adapter')).toBe(false);
  });
});

describe('the dropout mask stream', () => {
  const uniform = seededUniform(Date.now() % 100_000);

  it('keeps an element exactly where (hash >> 8) / 2^24 ≥ P', () => {
    for (let trial = 0; trial < 200; trial++) {
      const p = uniform();
      const threshold = keepThreshold(p);
      // The integers around the threshold: kept from it on, as their uniform is ≥ P from it on.
      for (const k of [threshold - 1, threshold, threshold + 1])
        if (k >= 0 && k < 2 ** 24) expect(k >= threshold, `P ${p}, k ${k}`).toBe(k / 2 ** 24 >= p);
    }
  });

  it('drops about P of the elements, as 0, and scales the others by 1/(1 − P)', () => {
    const p = 0.1 + 0.8 * uniform();
    const seed = Math.floor(uniform() * 0xffffffff);
    const factors = dropoutFactors({ probability: p, seed }, 7, 3, 20_000);
    const dropped = factors.filter((f) => f === 0).length / factors.length;
    // Binomial: 5 standard deviations of 20 000 draws are under 0.018.
    expect(Math.abs(dropped - p)).toBeLessThan(0.018);
    expect(new Set(factors)).toEqual(new Set([0, 1 / (1 - p)]));
  });

  it('gives each seed, step, site and element its own bits, and the same ones again', () => {
    const seed = Math.floor(uniform() * 0xffffffff);
    const key = dropoutKey(seed, 4, 2);
    expect(dropoutKey(seed, 4, 2)).toBe(key);
    const others = [dropoutKey(seed + 1, 4, 2), dropoutKey(seed, 5, 2), dropoutKey(seed, 4, 3)];
    for (const other of others) expect(other).not.toBe(key);
    const bits = Array.from({ length: 1000 }, (_, i) => dropoutBits(key, i));
    expect(new Set(bits).size).toBe(bits.length);
    expect(bits.every((b) => Number.isInteger(b) && b >= 0 && b <= 0xffffffff)).toBe(true);
  });

  it('is off at P = 0 and refuses a P outside [0, 1)', () => {
    expect(activeDropout({ probability: 0, seed: 1 })).toBeUndefined();
    expect(activeDropout(undefined)).toBeUndefined();
    for (const probability of [1, -0.1, Number.NaN])
      expect(() => activeDropout({ probability, seed: 1 })).toThrow(
        /dropout\.probability must be a number in \[0, 1\)/,
      );
  });
});
