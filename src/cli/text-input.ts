import { MAX_SPEC_BYTES, readInputFile } from './input-file.js';
import { CliError } from './io.js';
import { decodeUtf8 } from './utf8.js';

/** The most texts one run takes: a batch past it is rarely meant, and its ids need memory. */
export const MAX_TEXTS = 100_000;

/**
 * The texts of `--text` (each occurrence one text) and `--text-file` (one text a line; blank
 * lines skipped), in that order; undefined when neither is given. No text at all is an error.
 */
export function readTexts(
  cwd: string,
  texts: readonly string[],
  textFile: string | undefined,
): string[] | undefined {
  if (texts.length === 0 && textFile === undefined) return undefined;
  const fromFile =
    textFile === undefined
      ? []
      : decodeUtf8(
          readInputFile(cwd, { path: textFile, what: 'a text file', maxBytes: MAX_SPEC_BYTES }),
          textFile,
        )
          .split(/\r\n|\n|\r/)
          .filter((line) => line.trim() !== '');
  if (textFile !== undefined && fromFile.length === 0)
    throw new CliError(`${textFile}: error: holds no text (one text a line)`);
  const all = [...texts, ...fromFile];
  if (all.length > MAX_TEXTS)
    throw new CliError(
      `adapt: error: ${all.length} texts; one run takes at most ${MAX_TEXTS} (split the file)`,
    );
  return all;
}
