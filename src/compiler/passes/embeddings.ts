// Rule: [layer_norm](add(add(gather(word, ids), gather(position, positionIds)),
// gather(type, typeIds))), the type term and the LayerNorm optional, every table and LayerNorm
// parameter a weight, every id tensor of one shape, each intermediate read by nothing else
// → embeddings(ids, word, positionIds, position, [typeIds, type], [gamma, beta]): a transformer's
// input embeddings in one row kernel. Runs before add-layer-norm, which would claim the last add.
import type { IrGraph, IrNode } from '../ir/types.js';
import {
  constrain,
  match,
  matchContext,
  op,
  type MatchContext,
  type NodeOfAny,
  type Pattern,
} from './match/pattern.js';
import { hasOneReader } from './match/predicates.js';
import { applyFusions, sameShape, type Fusion } from './rewrite.js';

const isWeight = (id: number, context: MatchContext) => context.graph.nodes[id]!.op === 'weight';

/** A gather of a weight table, read only by the sum above it. */
const lookup = <const N extends string>(bind: N) =>
  op('gather', {
    bind,
    where: (node, context) => hasOneReader(node, context) && isWeight(node.inputs[0]!, context),
  });

/** The sum a match is rooted at may have any readers; one inside it only the node above. */
const readers = (inner: boolean) => (inner ? hasOneReader : () => true);

const wordAndPosition = (inner: boolean) =>
  op('add', { bind: 'pair', where: readers(inner), inputs: [lookup('word'), lookup('position')] });
const withTypes = (inner: boolean) =>
  op('add', {
    bind: 'sum',
    where: readers(inner),
    inputs: [wordAndPosition(true), lookup('type')],
  });

/** The ids of every lookup share one shape. */
function sameIds(lookups: readonly NodeOfAny<'gather'>[], context: MatchContext): boolean {
  const shapeOf = (node: IrNode) => context.graph.nodes[node.inputs[1]!]!.shape;
  return lookups.every((node) => sameShape(shapeOf(node), shapeOf(lookups[0]!)));
}

const typed = (inner: boolean) =>
  constrain(withTypes(inner), (b, c) => sameIds([b.word, b.position, b.type], c));
const untyped = (inner: boolean) =>
  constrain(wordAndPosition(inner), (b, c) => sameIds([b.word, b.position], c));

const normalized = <B>(sum: Pattern<B>) =>
  op('layer_norm', {
    bind: 'norm',
    where: (node, context) =>
      isWeight(node.inputs[1]!, context) && isWeight(node.inputs[2]!, context),
    inputs: [sum],
  });

const PATTERNS = {
  typedNorm: normalized(typed(true)),
  norm: normalized(untyped(true)),
  typed: typed(false),
  untyped: untyped(false),
};

interface Found {
  readonly root: IrNode;
  readonly word: NodeOfAny<'gather'>;
  readonly position: NodeOfAny<'gather'>;
  readonly type?: NodeOfAny<'gather'>;
  readonly norm?: NodeOfAny<'layer_norm'>;
  readonly adds: readonly IrNode[];
}

/** The largest embeddings sum rooted at `id`. */
function find(context: MatchContext, id: number): Found | undefined {
  const root = context.graph.nodes[id]!;
  const typedNorm = match(context, PATTERNS.typedNorm, id);
  if (typedNorm) return { root, ...typedNorm, adds: [typedNorm.pair, typedNorm.sum] };
  const norm = match(context, PATTERNS.norm, id);
  if (norm) return { root, ...norm, adds: [norm.pair] };
  const sum = match(context, PATTERNS.typed, id);
  if (sum) return { root, ...sum, adds: [sum.pair] };
  const pair = match(context, PATTERNS.untyped, id);
  return pair && { root, ...pair, adds: [] };
}

export function fuseEmbeddings(graph: IrGraph): IrGraph {
  const context = matchContext(graph);
  const fusions: Fusion[] = [];
  const claimed = new Set<number>();
  // From the outputs back, so the largest match claims a sum before its inner add is tried.
  for (let id = graph.nodes.length - 1; id >= 0; id--) {
    if (claimed.has(id)) continue;
    const found = find(context, id);
    if (!found) continue;
    const { root, word, position, type, norm } = found;
    const absorbed = [...found.adds, word, position, ...(type ? [type] : [])]
      .map((node) => node.id)
      .filter((node) => node !== root.id);
    for (const node of [root.id, ...absorbed]) claimed.add(node);
    fusions.push({
      root: root.id,
      absorbed,
      emit: (rw) => {
        const pairOf = (lookup: NodeOfAny<'gather'>) => [lookup.inputs[1]!, lookup.inputs[0]!];
        const inputs = [
          ...pairOf(word),
          ...pairOf(position),
          ...(type ? pairOf(type) : []),
          ...(norm ? norm.inputs.slice(1) : []),
        ];
        return rw.emit(
          'embeddings',
          inputs.map((input) => rw.map(input)),
          {
            tokenTypes: type !== undefined,
            layerNorm: norm !== undefined,
            eps: norm?.attrs.eps ?? 0,
          },
          root.scope,
        );
      },
    });
  }
  return applyFusions(graph, fusions);
}
