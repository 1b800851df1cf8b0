import { checkSource } from '../../compiler/index.js';
import { CliError, EXIT, printable, type CliIO } from '../io.js';
import { readTextFile } from '../input-file.js';
import { specFileReader } from '../load-model.js';
import { renderDiagnostic, summarize } from '../render.js';

/** `adapt check <file>...`: 0 when every file is clean, 1 when any has an error. */
export function runCheck(io: CliIO, files: readonly string[]): number {
  let errors = 0;
  let warnings = 0;
  for (const file of files) {
    let result: ReturnType<typeof checkSource>;
    try {
      const text = readTextFile(io.cwd, file);
      result = checkSource(text, file, { readFile: specFileReader(io.cwd, file) });
    } catch (error) {
      if (!(error instanceof CliError)) throw error;
      io.stderr(`${error.message}\n`);
      errors++;
      continue;
    }
    for (const diagnostic of result.diagnostics) {
      io.stderr(renderDiagnostic(diagnostic, result.source, io.color));
      if (diagnostic.severity === 'error') errors++;
      else warnings++;
    }
  }
  const summary = summarize(errors, warnings, files.length);
  if (errors > 0) {
    io.stderr(`${summary}\n`);
    return EXIT.errors;
  }
  io.stdout(
    `${warnings ? summary : `${files.length === 1 ? printable(files[0]!) : `${files.length} files`}: ok`}\n`,
  );
  return EXIT.ok;
}
