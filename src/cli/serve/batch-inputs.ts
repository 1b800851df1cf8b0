import { maxTokens, type TextInputs } from '../../runtime/inputs.js';
import type { Program, ProgramText } from '../../runtime/program.js';
import { textInputs } from '../../runtime/text/classify.js';
import type { TextTokenizer } from '../../runtime/text/tokenizer.js';

/** One text as the tokenizer gave it, alone: no padding. */
export interface EncodedText {
  readonly ids: Int32Array;
  readonly mask: Int32Array;
  readonly types: Int32Array;
  readonly tokens: readonly string[];
  readonly words: readonly (number | null)[];
  /** Cut to the model's positions. */
  readonly truncated: boolean;
}

/** Tokenizes one text when its request arrives, so that a batch only pads. */
export function encodeText(
  tokenizer: TextTokenizer,
  text: ProgramText,
  value: string,
): EncodedText {
  const encoded = tokenizer.encodeBatch([value], {
    maxLength: maxTokens(text),
    ...(text.padId === undefined ? {} : { padId: text.padId }),
  });
  return {
    ids: encoded.inputIds,
    mask: encoded.attentionMask,
    types: encoded.tokenTypeIds,
    tokens: encoded.tokens[0]!,
    words: encoded.words[0]!,
    truncated: encoded.truncated.length > 0,
  };
}

/**
 * The texts of one batch padded to the longest, as the program's inputs: ids padded with the
 * model's pad id (RoBERTa's positions count from it), mask and token types with 0.
 */
export function batchInputs(
  program: Program,
  texts: readonly EncodedText[],
): { inputs: TextInputs; seq: number } {
  const seq = Math.max(...texts.map((t) => t.ids.length));
  const batch = texts.length;
  const padId = program.model.text?.padId ?? 0;
  const inputIds = new Int32Array(batch * seq).fill(padId);
  const attentionMask = new Int32Array(batch * seq);
  const tokenTypeIds = new Int32Array(batch * seq);
  texts.forEach((text, b) => {
    inputIds.set(text.ids, b * seq);
    attentionMask.set(text.mask, b * seq);
    tokenTypeIds.set(text.types, b * seq);
  });
  return {
    inputs: textInputs(program, { batch, seq, inputIds, attentionMask, tokenTypeIds }),
    seq,
  };
}
