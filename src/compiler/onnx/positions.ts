import type { ProgramText } from '../../runtime/program.js';
import type { OnnxGraphBuilder } from './builder.js';
import { dataType, int, type OnnxAttr } from './proto.js';

/** The ONNX value the computed position ids are written to. */
export const POSITION_IDS = 'position_ids';

/**
 * Position ids [B,T] int32 computed in the graph from `input_ids`, by the rule the runtime's
 * `positionIds` applies (docs/language.md §3.1.1): `absolute` counts 0, 1, … along each
 * sequence; `after-padding` (RoBERTa, XLM-R) is `cumsum(real) · real + padding_idx` with
 * `real = input_ids ≠ padding_idx`, so real tokens count from padding_idx + 1 and pads get
 * padding_idx, as Hugging Face's `create_position_ids_from_input_ids`. Node and value names
 * start with `position_ids`.
 */
export function buildPositionIds(b: OnnxGraphBuilder, text: ProgramText, inputIds: string): string {
  const step = (
    label: string,
    opType: string,
    inputs: readonly string[],
    attrs: Readonly<Record<string, OnnxAttr>> = {},
    out = `${POSITION_IDS}__${label}`,
  ) => {
    b.node(`${POSITION_IDS}_${label}`, opType, inputs, [out], attrs);
    return out;
  };
  if (text.positions === 'absolute') {
    const length = step('length', 'Shape', [inputIds], { start: int(1), end: int(2) });
    const count = step('length_scalar', 'Squeeze', [length, b.i64([0])]);
    const range = step('range', 'Range', [b.i64Scalar(0), count, b.i64Scalar(1)]);
    const row = step('row', 'Cast', [range], { to: int(dataType('i32')) });
    const rows = step('row_batch', 'Unsqueeze', [row, b.i64([0])]);
    const shape = step('shape', 'Shape', [inputIds]);
    return step('expand', 'Expand', [rows, shape], {}, POSITION_IDS);
  }
  const pad = b.i32(text.padId ?? 0);
  const isPad = step('is_pad', 'Equal', [inputIds, pad]);
  const real = step('real', 'Cast', [step('not_pad', 'Not', [isPad])], {
    to: int(dataType('i32')),
  });
  const count = step('count', 'CumSum', [real, b.i32(1)]);
  const counted = step('counted', 'Mul', [count, real]);
  return step('offset', 'Add', [counted, pad], {}, POSITION_IDS);
}
