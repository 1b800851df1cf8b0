import type { OnnxGraphBuilder } from './builder.js';
import { dataType, int, type OnnxAttr } from './proto.js';

export interface Visibility {
  /** bool, true where query i may attend key j: [B,1,1,T], or [B,1,T,T] when causal. */
  readonly bool: string;
  /** The same as float32 0/1. */
  readonly float: string;
}

/**
 * Builds which keys each query sees from the padding mask [B,T] (int32, nonzero attends): the
 * mask as bool broadcast over heads and queries, and for causal attention also key j ≤ query i,
 * from a Range over the run's T (the sequence length is a symbol, so no constant triangle will
 * do). Each piece is built once per graph, however many layers read it; node and value names
 * start with the mask's name.
 */
export class VisibilityBuilder {
  private readonly built = new Set<string>();

  constructor(private readonly b: OnnxGraphBuilder) {}

  visibility(mask: string, causal: boolean): Visibility {
    const padding = this.padding(mask);
    const bool = causal
      ? this.step(mask, 'causal_padding', 'And', () => [padding, this.causal(mask)])
      : padding;
    const float = this.step(
      mask,
      causal ? 'causal_padding_f32' : 'padding_f32',
      'Cast',
      () => [bool],
      { to: int(dataType('f32')) },
    );
    return { bool, float };
  }

  /** [B,1,1,T] bool. */
  private padding(mask: string): string {
    const keys = this.step(mask, 'keys', 'Cast', () => [mask], { to: int(dataType('bool')) });
    return this.step(mask, 'padding', 'Unsqueeze', () => [keys, this.b.i64([1, 2])]);
  }

  /** [T,T] bool, true where key j ≤ query i. */
  private causal(mask: string): string {
    const { b } = this;
    const length = this.step(mask, 'length', 'Shape', () => [mask], { start: int(1), end: int(2) });
    const count = this.step(mask, 'length_scalar', 'Squeeze', () => [length, b.i64([0])]);
    const positions = this.step(mask, 'positions', 'Range', () => [
      b.i64Scalar(0),
      count,
      b.i64Scalar(1),
    ]);
    const queries = this.step(mask, 'query_positions', 'Unsqueeze', () => [positions, b.i64([1])]);
    const keys = this.step(mask, 'key_positions', 'Unsqueeze', () => [positions, b.i64([0])]);
    return this.step(mask, 'causal', 'LessOrEqual', () => [keys, queries]);
  }

  /** One node `<mask>_<label>` writing `<mask>__<label>`, built on first use. */
  private step(
    mask: string,
    label: string,
    opType: string,
    inputs: () => readonly string[],
    attrs: Readonly<Record<string, OnnxAttr>> = {},
  ): string {
    const out = `${mask}__${label}`;
    if (!this.built.has(out)) {
      this.b.node(`${mask}_${label}`, opType, inputs(), [out], attrs);
      this.built.add(out);
    }
    return out;
  }
}
