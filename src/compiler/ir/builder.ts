import { opDef, outputDtype, type OpAttrs, type OpName } from '../../runtime/ops/registry.js';
import type { NodeOf, Provenance } from '../../runtime/ops/node.js';
import type { DType, IrGraph, IrNode, Shape, WeightInit, WeightSpec } from './types.js';

/** A handle to a node being built. */
export interface Value {
  readonly id: number;
  readonly shape: Shape;
}

/**
 * Appends nodes in topological order, computing each output shape and dtype from the op
 * registry, so a lowering can only build graphs whose shapes agree. Weights are created once per
 * name.
 */
export class GraphBuilder {
  private readonly nodes: IrNode[] = [];
  private readonly weights = new Map<string, { spec: WeightSpec; value: Value }>();
  private readonly inputs: { name: string; node: number; optional?: boolean }[] = [];
  private readonly outputs: { name: string; node: number }[] = [];
  /** Provenance stamped on every node added, e.g. layer 3, ffn, adapter `sentiment`. */
  scope: Provenance | undefined;

  private push<O extends OpName>(
    op: O,
    dtype: DType,
    shape: Shape,
    inputs: readonly Value[],
    attrs: OpAttrs<O>,
  ): Value {
    const id = this.nodes.length;
    const node: NodeOf<O> = {
      id,
      op,
      dtype,
      shape,
      inputs: inputs.map((v) => v.id),
      attrs,
      ...(this.scope !== undefined ? { scope: this.scope } : {}),
    };
    this.nodes.push(node as IrNode);
    return { id, shape };
  }

  input(name: string, dtype: DType, shape: Shape, optional = false): Value {
    const value = this.push('input', dtype, shape, [], { name });
    this.inputs.push({ name, node: value.id, ...(optional ? { optional } : {}) });
    return value;
  }

  /** A weight, created once per name; `from` derives it at load from a checkpoint tensor. */
  weight(
    name: string,
    shape: readonly number[],
    init: WeightInit,
    from?: WeightSpec['from'],
  ): Value {
    const existing = this.weights.get(name);
    if (existing) return existing.value;
    const value = this.push('weight', 'f32', shape, [], { name });
    this.weights.set(name, { spec: { name, shape, init, ...(from ? { from } : {}) }, value });
    return value;
  }

  op<O extends OpName>(op: O, inputs: readonly Value[], attrs: OpAttrs<O>): Value {
    const shape = opDef(op).shape!(
      inputs.map((v) => v.shape),
      attrs,
    );
    if (typeof shape === 'string') throw new Error(`IR construction: ${op}: ${shape}`);
    const dtype = outputDtype(
      op,
      inputs.map((v) => this.nodes[v.id]!.dtype),
    )!;
    return this.push(op, dtype, shape, inputs, attrs);
  }

  output(name: string, value: Value): void {
    this.outputs.push({ name, node: value.id });
  }

  finish(): IrGraph {
    return {
      nodes: [...this.nodes],
      inputs: [...this.inputs],
      outputs: [...this.outputs],
      weights: [...this.weights.values()].map((w) => w.spec),
    };
  }
}
