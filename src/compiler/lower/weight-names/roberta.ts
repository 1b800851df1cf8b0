import { BERT_NAMES } from './bert.js';
import type { FamilyNames } from './types.js';

/** RoBERTa and XLM-R store their encoder under BERT's names; only the position rule differs. */
export const ROBERTA_NAMES: FamilyNames = BERT_NAMES;
