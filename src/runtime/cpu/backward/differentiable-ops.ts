import { inGroup, type OpName, type OpsIn, type PrimitiveOp } from '../../ops/registry.js';
import { AdaptRuntimeError } from '../../errors.js';
import type { Program } from '../../program.js';

/**
 * The ops the backward pass runs: the primitive ops of a graph as lowered. The fused ops and the
 * load-time ops exist only after the optimizing passes, which training does not run; the slot ops
 * serve many adapters from stacked weights and are not trained.
 */
export type DifferentiableOp = Exclude<PrimitiveOp, OpsIn<'load'> | OpsIn<'slot'>>;

/** A graph, weight or label the reference backward pass cannot take. */
export class BackwardError extends AdaptRuntimeError {
  override name = 'BackwardError';
}

/** Refuses a program with any node the backward pass cannot run, naming the first one. */
export function requireLoweredProgram(program: Program): void {
  for (const node of program.nodes) {
    if (node.op === 'input' || node.op === 'weight') continue;
    const why = refusal(node.op);
    if (why) {
      throw new BackwardError(
        `node %${node.id} is a ${node.op} ${why}; the backward pass runs on the graph as lowered: compile with { fuse: false }`,
      );
    }
  }
}

function refusal(op: OpName): string | undefined {
  if (inGroup(op, 'fused')) return 'node, which only the optimizing passes produce';
  if (inGroup(op, 'load')) return 'node, a load-time value the optimizing passes add';
  if (inGroup(op, 'slot'))
    return 'node of an adapter-slots program, which serves adapters and is not trained';
  return undefined;
}
