import type { BaseModel, CheckpointSpec } from '../model.js';
import type { GraphBuilder, Value } from '../ir/builder.js';
import { BASE_INIT, ONES, ZEROS } from './inits.js';
import type { FamilyNames } from './weight-names/index.js';

/** The token inputs of a checkpoint graph; the runtime fills the optional ones when absent. */
export interface TextInputValues {
  readonly ids: Value;
  readonly mask: Value;
  /** Present where the checkpoint has a token-type vocabulary. */
  readonly typeIds?: Value;
  readonly positionIds: Value;
}

export function textInputs(b: GraphBuilder, checkpoint: CheckpointSpec): TextInputValues {
  const ids = b.input('input_ids', 'i32', ['B', 'T']);
  const mask = b.input('attention_mask', 'i32', ['B', 'T'], true);
  const typeIds =
    checkpoint.typeVocab > 0 ? b.input('token_type_ids', 'i32', ['B', 'T'], true) : undefined;
  const positionIds = b.input('position_ids', 'i32', ['B', 'T'], true);
  return { ids, mask, positionIds, ...(typeIds ? { typeIds } : {}) };
}

/**
 * The layer-0 input from token ids, as the checkpoint's embeddings module computes it:
 * word[ids] + position[positionIds] (+ type[typeIds]), then LayerNorm with the embedding eps where
 * the family has one (GPT-2's sum goes straight to the first block's ln_1). The embeddings pass
 * fuses these nodes into one kernel.
 */
export function lowerEmbeddings(
  b: GraphBuilder,
  checkpoint: CheckpointSpec,
  names: FamilyNames,
  inputs: TextInputValues,
  base: BaseModel,
): Value {
  const d = base.hidden;
  const { embeddings } = names;
  b.scope = undefined;
  const rows = (module: string, count: number, ids: Value) =>
    b.op('gather', [b.weight(`${module}.weight`, [count, d], BASE_INIT), ids], {});
  let x = b.op(
    'add',
    [
      rows(embeddings.word, checkpoint.vocab, inputs.ids),
      rows(embeddings.position, checkpoint.maxPositions, inputs.positionIds),
    ],
    {},
  );
  if (inputs.typeIds && embeddings.type)
    x = b.op('add', [x, rows(embeddings.type, checkpoint.typeVocab, inputs.typeIds)], {});
  if (checkpoint.embeddingEps === undefined || !embeddings.layerNorm) return x;
  const gamma = b.weight(`${embeddings.layerNorm}.weight`, [d], ONES);
  const beta = b.weight(`${embeddings.layerNorm}.bias`, [d], ZEROS);
  return b.op('layer_norm', [x, gamma, beta], { eps: checkpoint.embeddingEps });
}
