import type { IrNode } from '../../ir/types.js';
import { sameShape } from '../rewrite.js';
import type { MatchContext } from './pattern.js';

/**
 * Read by one node and not a graph output. On a pattern's input that one reader is the node the
 * pattern matched above it, so fusing the two hides no value anyone else needs.
 */
export function hasOneReader(node: IrNode, context: MatchContext): boolean {
  return context.users[node.id]!.length === 1;
}

/** Every input has the shape of the first: no broadcast. */
export function inputsOfSameShape(node: IrNode, context: MatchContext): boolean {
  const shapeOf = (id: number) => context.graph.nodes[id]!.shape;
  return node.inputs.every((id) => sameShape(shapeOf(id), shapeOf(node.inputs[0]!)));
}

export function isVector(node: IrNode): boolean {
  return node.shape.length === 1;
}
