import type { Program } from '../program.js';

/** For each node, the id of the last node that reads it (Infinity for outputs), so its memory can be let go. */
export function lastUses(program: Program): number[] {
  const last = program.nodes.map((node) => node.id);
  for (const node of program.nodes) for (const input of node.inputs) last[input] = node.id;
  for (const output of program.outputs) last[output.node] = Infinity;
  return last;
}
