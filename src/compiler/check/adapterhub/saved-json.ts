import type { DiagnosticBag } from '../../diagnostics.js';
import type { StringValue } from '../../syntax/ast.js';
import { reportNoReader, type ReadFile } from '../checkpoint/read-config.js';
import { parseJson, type JsonValue } from '../checkpoint/json.js';

/** `DIR/NAME`: the directory as written, joined with one `/`. */
export function savedFilePath(dir: string, name: string): string {
  return /[/\\]$/.test(dir) ? `${dir}${name}` : `${dir}/${name}`;
}

/**
 * One JSON file of an AdapterHub directory (`adapter_config.json`, `head_config.json`,
 * `adapter_fusion_config.json`), parsed strictly. A missing file is E0120 unless `optional`
 * (then undefined, silently); invalid JSON is E0121, at the directory string, naming the file.
 */
export function readSavedJson(
  path: StringValue,
  name: string,
  readFile: ReadFile | undefined,
  bag: DiagnosticBag,
  options: { readonly optional?: boolean; readonly what: string },
): { file: string; value: JsonValue } | undefined {
  const file = savedFilePath(path.value, name);
  if (!readFile) return reportNoReader(path, file, bag);
  const text = readFile(file);
  if (text === undefined) {
    if (!options.optional) {
      bag.report(
        'E0120',
        path.span,
        `no ${name} in ${JSON.stringify(path.value)} (looked for ${file})`,
        `the directory is relative to the spec file's folder and holds ${options.what}`,
      );
    }
    return undefined;
  }
  const parsed = parseJson(text);
  if (!parsed.ok) {
    bag.report('E0121', path.span, `${file}:${parsed.line}:${parsed.column}: ${parsed.message}`);
    return undefined;
  }
  return { file, value: parsed.value };
}
