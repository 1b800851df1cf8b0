import { describe, expect, it } from 'vitest';
import { compile } from '../../src/compiler/index.js';
import { ProgramError } from '../../src/runtime/errors.js';
import { validateProgram } from '../../src/runtime/validate-program.js';

// The FFN weights (12 KiB) are over a 4 KiB binding limit, so their matmuls run in column parts.
const SPEC = `model m { hidden 32 heads 4 ffn 96 layers 2 norm pre }
adapter a { bottleneck 8 at attn, ffn scale 3 }
graph default = stack(a)
`;
const program = compile(SPEC, { maxBindingBytes: 4096 }).program!;
const plan = program.gpu!;

describe('the dispatch plan', () => {
  it('names the node each dispatch computes and its part, and labels it with both', () => {
    const partsOf = new Map<number, number[]>();
    for (const d of plan.dispatches) partsOf.set(d.node, [...(partsOf.get(d.node) ?? []), d.part]);
    for (const parts of partsOf.values()) expect(parts).toEqual(parts.map((_, i) => i));
    for (const d of plan.dispatches) {
      const node = program.nodes[d.node]!;
      const split = partsOf.get(d.node)!.length > 1;
      expect(d.label.startsWith(`%${d.node} ${node.op}${split ? `[${d.part}]` : ''} (L`)).toBe(
        true,
      );
    }
    // W1 (32 in, 96 out) in 3 windows of 32 columns, W2 (96 in, 32 out) in 4 of 8, per layer.
    const splitParts = [...partsOf.values()].filter((p) => p.length > 1).map((p) => p.length);
    expect(splitParts).toEqual([3, 4, 3, 4]);
  });

  it('labels a dispatch with its node provenance as text', () => {
    const base = plan.dispatches.find((d) => d.label.includes('linear[0] (L1/ffn/base)'));
    expect(base?.label).toBe(`%${base?.node} linear[0] (L1/ffn/base)`);
    expect(plan.dispatches.some((d) => d.label.endsWith(' bottleneck (L0/attn/adapter:a)'))).toBe(
      true,
    );
  });
});

describe('the program reader', () => {
  const json = JSON.stringify(program);
  /** The program with dispatch `index` changed by `change`. */
  const withDispatch = (index: number, change: Record<string, unknown>) => {
    const copy = JSON.parse(json) as { gpu: { dispatches: Record<string, unknown>[] } };
    Object.assign(copy.gpu.dispatches[index]!, change);
    return copy;
  };
  const split = plan.dispatches.findIndex((d) => d.part === 1);
  const last = plan.dispatches.length - 1;

  it('accepts the plan as compiled', () => {
    expect(validateProgram(JSON.parse(json)).gpu!.dispatches).toEqual(plan.dispatches);
  });

  it.each([
    [
      'a node out of range',
      0,
      { node: program.nodes.length },
      `program.gpu.dispatches[0].node: refers to node ${program.nodes.length}; there are ${program.nodes.length} (0..${program.nodes.length - 1})`,
    ],
    [
      'a source node',
      0,
      { node: 0 },
      'program.gpu.dispatches[0].node: node 0 is a source (input); no kernel computes it',
    ],
    [
      'a first dispatch that is not part 0',
      0,
      { part: 1 },
      `program.gpu.dispatches[0].part: is 1; the first dispatch of node ${plan.dispatches[0]!.node} is part 0`,
    ],
    [
      'a part out of order',
      split,
      { part: 2 },
      `program.gpu.dispatches[${split}].part: is 2; the dispatch after part 0 of node ${plan.dispatches[split]!.node} is part 1`,
    ],
    [
      'a node before the one dispatched before it',
      last,
      { node: plan.dispatches[0]!.node },
      `program.gpu.dispatches[${last}].node: is ${plan.dispatches[0]!.node}, after a dispatch of node ${plan.dispatches[last - 1]!.node}; dispatches follow the node order`,
    ],
    [
      'a fractional part',
      0,
      { part: 0.5 },
      'program.gpu.dispatches[0].part: must be an integer of at least 0, got 0.5',
    ],
  ])('rejects %s', (_, index, change, message) => {
    expect(() => validateProgram(withDispatch(index, change))).toThrow(new ProgramError(message));
  });
});
