import { describe, expect, it } from 'vitest';
import { trainableModules, trainableWeights } from '../../src/runtime/training/trainable.js';
import { tinyProgram } from './tiny.js';

describe('the trained weights', () => {
  it('of --adapter: the adapter and the checkpoint classifier, not the pooler nor the base', () => {
    const program = tinyProgram();
    const { names, head } = trainableWeights(program, { adapter: 'a' });
    expect(head).toEqual(['classifier.weight', 'classifier.bias']);
    const own = names.filter((n) => !head.includes(n));
    // Two layers, one ffn site each: down and up, weight and bias.
    expect(own).toHaveLength(8);
    expect(own.every((n) => n.includes('.adapters.a.'))).toBe(true);
    expect(names.some((n) => n.startsWith('pooler.'))).toBe(false);
    expect(names.some((n) => n.includes('embeddings'))).toBe(false);
  });

  it('of --fusion: the fusion and the head, its adapters frozen', () => {
    const program = tinyProgram(undefined, 'fused');
    expect(trainableModules(program)).toEqual({ adapters: ['a', 'b'], fusions: ['f'] });
    const { names, head } = trainableWeights(program, { fusion: 'f' });
    const own = names.filter((n) => !head.includes(n));
    expect(own.length).toBeGreaterThan(0);
    expect(own.every((n) => n.includes('.adapter_fusion_layer.f.'))).toBe(true);
    expect(names.some((n) => n.includes('.adapters.'))).toBe(false);
  });

  it('refuses an adapter or fusion the program does not have, listing those it has', () => {
    const program = tinyProgram(undefined, 'fused');
    expect(() => trainableWeights(program, { adapter: 'c' })).toThrow(
      "graph 'fused' has no adapter 'c'; its adapters are 'a', 'b'",
    );
    expect(() => trainableWeights(tinyProgram(), { fusion: 'f' })).toThrow(
      "graph 'default' has no fusion 'f'; it has no fusions",
    );
  });
});
