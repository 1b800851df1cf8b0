import { prepareInputs, type TextInputs } from '../inputs.js';
import type { Program } from '../program.js';
import { IGNORED_LABEL, type TrainingBatch } from './backend.js';
import type { EncodedData } from './encode.js';

/**
 * Rows of the data as one batch: padded on the right to its longest row with the pad id, token
 * type 0 and attention mask 0 (as the tokenizer pads a batch for `adapt run`, and transformers'
 * DataCollatorWithPadding / DataCollatorForTokenClassification pad, the latter with label −100).
 * Labels: one per row, or one per token `[B·T]` for tagging.
 */
export function makeBatch(
  program: Program,
  data: EncodedData,
  indices: readonly number[],
): TrainingBatch {
  const rows = indices.map((i) => data.rows[i]!);
  const batch = rows.length;
  const seq = Math.max(...rows.map((row) => row.ids.length));
  const ids = new Int32Array(batch * seq).fill(data.padId);
  const types = new Int32Array(batch * seq);
  const mask = new Int32Array(batch * seq);
  const labels =
    data.kind === 'token' ? new Int32Array(batch * seq).fill(IGNORED_LABEL) : new Int32Array(batch);
  rows.forEach((row, b) => {
    ids.set(row.ids, b * seq);
    types.set(row.typeIds, b * seq);
    mask.fill(1, b * seq, b * seq + row.ids.length);
    if (data.kind === 'token') labels.set(row.labels, b * seq);
    else labels[b] = row.labels[0]!;
  });
  const shape = [batch, seq];
  const takes = new Set(program.inputs.map((input) => input.name));
  const inputs: TextInputs = {
    input_ids: { data: ids, shape },
    ...(takes.has('attention_mask') ? { attention_mask: { data: mask, shape } } : {}),
    ...(takes.has('token_type_ids') ? { token_type_ids: { data: types, shape } } : {}),
  };
  return { inputs: prepareInputs(program, inputs), labels };
}

/** The lines of the rows of a batch, for messages. */
export function batchLines(data: EncodedData, indices: readonly number[]): number[] {
  return indices.map((i) => data.rows[i]!.line);
}
