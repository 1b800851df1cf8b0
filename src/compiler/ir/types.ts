import type { DType, ProgramNode, Shape, WeightSpec } from '../../runtime/program.js';

export type {
  AttrValue,
  Dim,
  DType,
  Shape,
  WeightInit,
  WeightSpec,
} from '../../runtime/program.js';

/** One IR node: plain readonly data; facts about its op live in the OPS table. */
export type IrNode = ProgramNode;

export interface IrValue {
  readonly name: string;
  readonly node: number;
}

/** A graph: nodes in topological order, named inputs and outputs, and the weights it reads. */
export interface IrGraph {
  readonly nodes: readonly IrNode[];
  readonly inputs: readonly (IrValue & { readonly optional?: boolean })[];
  readonly outputs: readonly IrValue[];
  readonly weights: readonly WeightSpec[];
}

export type { DType as IrDType, Shape as IrShape };
