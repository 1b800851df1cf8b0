import type { IrGraph, IrNode } from '../ir/types.js';
import { rewriteGraph, sameShape, usersOf } from './rewrite.js';

const ACTIVATIONS = new Set(['relu', 'gelu', 'gelu_tanh', 'silu', 'tanh']);

interface Epilogue {
  /** The chain's last node: the fused linear is emitted in its place. */
  readonly last: number;
  readonly members: readonly number[];
  readonly bias?: number;
  readonly activation: string;
  readonly scale: number;
  readonly residual?: number;
}

/**
 * Epilogue fusion: a matmul followed by its bias add, an activation, a scale and a residual add,
 * each step the only reader of the one before, becomes one `linear` node. The steps must come in
 * that order and each is optional. (TVM's rule: elementwise ops fuse into their producer.)
 */
export function fuseEpilogues(graph: IrGraph): IrGraph {
  const users = usersOf(graph);
  const claimed = new Set<number>();
  const chains = new Map<number, Epilogue>();
  const soleUser = (id: number): IrNode | undefined => {
    const list = users[id]!;
    if (list.length !== 1 || list[0]! < 0 || claimed.has(list[0]!)) return undefined;
    return graph.nodes[list[0]!];
  };
  for (const node of graph.nodes) {
    if (node.op !== 'matmul') continue;
    const members = [node.id];
    let current = node.id;
    let next = soleUser(current);
    const chain: { bias?: number; activation: string; scale: number; residual?: number } = {
      activation: 'none',
      scale: 1,
    };
    const other = (add: IrNode) => add.inputs.find((i) => i !== current)!;
    let stage = 0;
    while (next) {
      if (
        stage < 1 &&
        next.op === 'add' &&
        graph.nodes[next.inputs[1]!]!.op === 'weight' &&
        next.inputs[0] === current
      ) {
        const bias = graph.nodes[next.inputs[1]!]!;
        if (bias.shape.length !== 1) break;
        chain.bias = bias.id;
        stage = 1;
      } else if (stage < 2 && ACTIVATIONS.has(next.op)) {
        chain.activation = next.op;
        stage = 2;
      } else if (stage < 3 && next.op === 'scale') {
        chain.scale = next.attrs.factor as number;
        stage = 3;
      } else if (
        stage < 4 &&
        next.op === 'add' &&
        next.inputs[0] !== next.inputs[1] &&
        sameShape(graph.nodes[other(next)]!.shape, next.shape)
      ) {
        chain.residual = other(next);
        stage = 4;
      } else {
        break;
      }
      members.push(next.id);
      current = next.id;
      next = stage < 4 ? soleUser(current) : undefined;
    }
    for (const id of members) claimed.add(id);
    chains.set(current, {
      last: current,
      members,
      activation: chain.activation,
      scale: chain.scale,
      ...(chain.bias !== undefined ? { bias: chain.bias } : {}),
      ...(chain.residual !== undefined ? { residual: chain.residual } : {}),
    });
  }
  const byMember = new Map<number, Epilogue>();
  for (const chain of chains.values()) for (const id of chain.members) byMember.set(id, chain);

  return rewriteGraph(graph, (node, rw) => {
    const chain = byMember.get(node.id);
    if (!chain) return undefined;
    if (node.id !== chain.last) return 'drop';
    const matmul = graph.nodes[chain.members[0]!]!;
    const inputs = [rw.map(matmul.inputs[0]!), rw.map(matmul.inputs[1]!)];
    if (chain.bias !== undefined) inputs.push(rw.map(chain.bias));
    if (chain.residual !== undefined) inputs.push(rw.map(chain.residual));
    return rw.emit(
      'linear',
      inputs,
      {
        activation: chain.activation,
        scale: chain.scale,
        bias: chain.bias !== undefined,
        residual: chain.residual !== undefined,
        transposeWeight: false,
      },
      matmul.scope,
    );
  });
}
