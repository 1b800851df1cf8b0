import type { Program } from '../program.js';

const computed = new WeakMap<Program, readonly number[]>();

/**
 * For each node, the id of the last node that reads it (Infinity for outputs), so its memory can
 * be let go. A fact of the program alone: computed once per program, not once per run.
 */
export function lastUses(program: Program): readonly number[] {
  let last = computed.get(program);
  if (!last) {
    const uses = program.nodes.map((node) => node.id);
    for (const node of program.nodes) for (const input of node.inputs) uses[input] = node.id;
    for (const output of program.outputs) uses[output.node] = Infinity;
    last = uses;
    computed.set(program, last);
  }
  return last;
}
