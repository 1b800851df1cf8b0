// Rule: linear(linear(z, W_down, b_down), W_up, b_up, r?) → bottleneck: an adapter's
// down-projection, activation, up-projection, scale and residual add (linears after epilogue
// fusion) in one kernel that keeps the r-wide bottleneck in workgroup memory. The down-projection
// has a bias, scale 1 and no residual and is read by the up-projection only; the up-projection has
// a bias and no activation; r < d (a feed-forward sublayer expands instead) and the row fits on
// chip. An adapter whose residual is the output of such a kernel, read by nothing else, joins it:
// adapters stacked at one site share one kernel. This goes beyond TVM's one-matmul-per-kernel
// rule: the pattern is known, so it is safe.
import type { NodeOf } from '../../runtime/ops/node.js';
import type { LinearActivation } from '../../runtime/ops/registry.js';
import { MAX_WORKGROUP_FLOATS } from '../ir/limits.js';
import type { IrGraph, Shape } from '../ir/types.js';
import { any, constrain, match, matchContext, op, type MatchContext } from './match/pattern.js';
import { hasOneReader } from './match/predicates.js';
import { applyFusions, type Fusion } from './rewrite.js';

/** Largest bottleneck a single kernel holds in workgroup memory, per row. */
export const MAX_FUSED_BOTTLENECK = 1024;
/** Adapters per kernel: each adds 4 weight bindings (packed into one on the GPU). */
export const MAX_ADAPTERS_PER_KERNEL = 4;

function isDownProjection(down: NodeOf<'linear'>, context: MatchContext): boolean {
  const { bias, residual, transposeWeight, scale } = down.attrs;
  return bias && !residual && !transposeWeight && scale === 1 && hasOneReader(down, context);
}

function isUpProjection(up: NodeOf<'linear'>): boolean {
  const { bias, activation, transposeWeight } = up.attrs;
  return bias && activation === 'none' && !transposeWeight;
}

/** W_down [r, d] of a true bottleneck that fits in workgroup memory. */
function fitsOnChip([r, d]: Shape): boolean {
  if (typeof r !== 'number' || typeof d !== 'number') return false;
  return r < d && r <= MAX_FUSED_BOTTLENECK && d + r <= MAX_WORKGROUP_FLOATS;
}

const adapter = constrain(
  op('linear', {
    bind: 'up',
    where: isUpProjection,
    inputs: [
      op('linear', {
        bind: 'down',
        where: isDownProjection,
        inputs: [any('z'), any('downWeight'), any('downBias')],
      }),
      any('upWeight'),
      any('upBias'),
    ],
  }),
  ({ downWeight }) => fitsOnChip(downWeight.shape),
);

/** One adapter of a kernel: what it reads (y_i or u) and its four tensors. */
interface Module {
  readonly activation: LinearActivation;
  readonly scale: number;
  readonly reads: 'y' | 'u';
  readonly weights: readonly number[];
}

/** Adapters applied one after another at one site, fused into one kernel. */
interface Group {
  /** The up-projection whose value the kernel's output replaces. */
  last: number;
  readonly members: number[];
  readonly y: number;
  u: number | undefined;
  readonly modules: Module[];
  readonly residual: boolean;
}

export function fuseBottlenecks(graph: IrGraph): IrGraph {
  const context = matchContext(graph);
  const groupEndingAt = new Map<number, Group>();
  for (const node of graph.nodes) {
    const bound = match(context, adapter, node.id);
    if (!bound) continue;
    const { down, up, z } = bound;
    const residual = up.attrs.residual ? up.inputs[3]! : undefined;
    const module: Module = {
      activation: down.attrs.activation,
      scale: up.attrs.scale,
      reads: residual === undefined || residual === z.id ? 'y' : 'u',
      weights: [bound.downWeight.id, bound.downBias.id, bound.upWeight.id, bound.upBias.id],
    };
    const previous = residual === undefined ? undefined : groupEndingAt.get(residual);
    const joinsPrevious =
      previous !== undefined &&
      previous.residual &&
      context.users[previous.last]!.every((user) => user === down.id || user === up.id) &&
      previous.modules.length < MAX_ADAPTERS_PER_KERNEL &&
      (module.reads === 'y' || previous.u === undefined || previous.u === z.id);
    if (joinsPrevious) {
      groupEndingAt.delete(previous.last);
      previous.last = up.id;
      previous.members.push(down.id, up.id);
      previous.modules.push(module);
      if (module.reads === 'u') previous.u = z.id;
      groupEndingAt.set(up.id, previous);
      continue;
    }
    groupEndingAt.set(up.id, {
      last: up.id,
      members: [down.id, up.id],
      y: residual ?? z.id,
      u: module.reads === 'u' ? z.id : undefined,
      modules: [module],
      residual: residual !== undefined,
    });
  }
  return applyFusions(
    graph,
    [...groupEndingAt.values()].map((group) => kernelOf(graph, group)),
  );
}

function kernelOf(graph: IrGraph, group: Group): Fusion {
  const { modules } = group;
  return {
    root: group.last,
    absorbed: group.members.filter((id) => id !== group.last),
    emit(rw) {
      const y = rw.map(group.y);
      const u = group.u === undefined ? y : rw.map(group.u);
      const weights = modules.flatMap((m) => m.weights.map((id) => rw.map(id)));
      return rw.emit(
        'bottleneck',
        [y, u, ...weights],
        {
          activations: modules.map((m) => m.activation),
          scales: modules.map((m) => m.scale),
          reads: modules.map((m) => m.reads),
          residual: group.residual,
        },
        graph.nodes[group.members[0]!]!.scope,
      );
    },
  };
}
