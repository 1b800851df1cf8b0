import type { Family } from '../../model.js';
import { BERT_NAMES } from './bert.js';
import { DISTILBERT_NAMES } from './distilbert.js';
import { gpt2Names } from './gpt2.js';
import { ROBERTA_NAMES } from './roberta.js';
import type { FamilyNames } from './types.js';

export type { FamilyNames, LinearSource, WeightSource } from './types.js';
export { adapterDown, adapterUp, fusionProjection, plainLinear } from './types.js';
export { BERT_NAMES } from './bert.js';

/** The tensor names of a checkpoint family at hidden size d. */
export function familyNames(family: Family, d: number): FamilyNames {
  switch (family) {
    case 'bert':
      return BERT_NAMES;
    case 'roberta':
      return ROBERTA_NAMES;
    case 'distilbert':
      return DISTILBERT_NAMES;
    case 'gpt2':
      return gpt2Names(d);
  }
}
