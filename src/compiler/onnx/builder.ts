import {
  attribute,
  tensorProto,
  type NodeProto,
  type OnnxAttr,
  type TensorProto,
} from './proto.js';

/** `-0.5` → `m0p5`, `1e-12` → `1em12`: a number as part of an identifier. */
function idText(value: number): string {
  return String(value).replace(/-/g, 'm').replace(/\./g, 'p').replace(/\+/g, '');
}

/**
 * Collects the nodes and initializers of an ONNX graph in order. Constants are initializers named
 * after their value (`c_f32_0p5`, `c_i64_0_0_4_8`) and created once, so the output is
 * deterministic and each constant is stored once however often it is used.
 */
export class OnnxGraphBuilder {
  readonly nodes: NodeProto[] = [];
  readonly initializers: TensorProto[] = [];
  private readonly names = new Set<string>();

  /** Appends a node; `outputs` are value names the caller chose. */
  node(
    name: string,
    opType: string,
    inputs: readonly string[],
    outputs: readonly string[],
    attrs: Readonly<Record<string, OnnxAttr>> = {},
    docString?: string,
    domain = '',
  ): NodeProto {
    const node: NodeProto = {
      name,
      opType,
      domain,
      input: [...inputs],
      output: [...outputs],
      attribute: Object.entries(attrs).map(([key, value]) => attribute(key, value)),
      ...(docString !== undefined ? { docString } : {}),
    };
    this.nodes.push(node);
    return node;
  }

  initializer(tensor: TensorProto): void {
    this.names.add(tensor.name!);
    this.initializers.push(tensor);
  }

  private constant(name: string, make: () => TensorProto): string {
    if (!this.names.has(name)) this.initializer(make());
    return name;
  }

  /** A float32 scalar. */
  f32(value: number): string {
    const name = `c_f32_${idText(value)}`;
    return this.constant(name, () => tensorProto(name, 'f32', [], Float32Array.of(value)));
  }

  /** An int32 scalar. */
  i32(value: number): string {
    const name = `c_i32_${idText(value)}`;
    return this.constant(name, () => tensorProto(name, 'i32', [], Int32Array.of(value)));
  }

  /** An int64 scalar. */
  i64Scalar(value: number): string {
    const name = `c_i64s_${idText(value)}`;
    return this.constant(name, () => tensorProto(name, 'i64', [], BigInt64Array.of(BigInt(value))));
  }

  /** A 1-D int64 tensor (shapes, axes, slice bounds). */
  i64(values: readonly number[]): string {
    const name = `c_i64_${values.map(idText).join('_')}`;
    const data = BigInt64Array.from(values, (v) => BigInt(v));
    return this.constant(name, () => tensorProto(name, 'i64', [values.length], data));
  }
}
