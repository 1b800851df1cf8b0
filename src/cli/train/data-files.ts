import { createHash } from 'node:crypto';
import { maxTokens } from '../../runtime/inputs.js';
import type { ProgramText } from '../../runtime/program.js';
import { parseTrainingData } from '../../runtime/training/data.js';
import {
  encodeTrainingData,
  type EncodedData,
  type TrainingTokenizer,
} from '../../runtime/training/encode.js';
import { TrainingError } from '../../runtime/training/errors.js';
import type { TrainingHead } from '../../runtime/training/head.js';
import { readInputFile } from '../input-file.js';
import { CliError } from '../io.js';
import { decodeUtf8 } from '../utf8.js';

/** The largest data file read: far past a fine-tuning set, short of a stray multi-GB file. */
const MAX_DATA_BYTES = 1024 * 2 ** 20;

export interface DataFile {
  readonly encoded: EncodedData;
  /** Of the file's bytes: a resume must train on the same data. */
  readonly sha256: string;
}

/** A TrainingError as the CLI prints it: `FILE:LINE: error: …`. */
export function trainingCliError(error: unknown): unknown {
  return error instanceof TrainingError
    ? new CliError(`${error.location}: error: ${error.detail}`)
    : error;
}

/** Reads, parses and tokenizes a JSONL data file; notes the rows cut to the model's positions. */
export function readDataFile(
  cwd: string,
  path: string,
  head: TrainingHead,
  text: ProgramText,
  tokenizer: TrainingTokenizer,
  onNotice: (notice: string) => void,
): DataFile {
  const bytes = readInputFile(cwd, { path, what: 'a data file', maxBytes: MAX_DATA_BYTES });
  const content = decodeUtf8(bytes, path);
  try {
    const encoded = encodeTrainingData(parseTrainingData(content, path, head), text, tokenizer);
    if (encoded.truncated.length > 0) {
      const lines = encoded.truncated.slice(0, 10).join(', ');
      onNotice(
        `${path}: cut to ${maxTokens(text)} tokens, as the model takes no more: line${encoded.truncated.length > 1 ? 's' : ''} ${lines}${encoded.truncated.length > 10 ? ', …' : ''}`,
      );
    }
    return { encoded, sha256: createHash('sha256').update(bytes).digest('hex') };
  } catch (error) {
    throw trainingCliError(error);
  }
}
