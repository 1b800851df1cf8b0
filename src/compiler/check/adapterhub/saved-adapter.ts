import type { DiagnosticBag } from '../../diagnostics.js';
import type { AdapterSpec, PredictionHeadSpec } from '../../model.js';
import type { BlockDeclaration, SourceClause } from '../../syntax/ast.js';
import type { JsonValue } from '../checkpoint/json.js';
import type { ReadFile } from '../checkpoint/read-config.js';
import { collectProperties } from '../properties.js';
import { AdapterConfigError, readSavedAdapterConfig } from './bottleneck-config.js';
import { readHeadConfig } from './head-config.js';
import { hubAdapterParts } from './hub-adapter.js';
import { readSavedJson } from './saved-json.js';

/** What the checks of a directory need of the model; absent where the model is invalid. */
export interface SavedModelFacts {
  readonly hidden?: number;
  readonly layers?: number;
}

/** The `config` of a saved JSON file (the whole file for a bare config dict), kept to write back. */
export function savedConfigOf(value: JsonValue): JsonValue {
  return value instanceof Map && value.has('config') ? value.get('config')! : value;
}

/** Reports an AdapterConfigError at the directory string; other errors propagate. */
export function reportConfigError(error: unknown, from: SourceClause, bag: DiagnosticBag): void {
  if (!(error instanceof AdapterConfigError)) throw error;
  bag.report('E0121', from.path.span, error.message);
}

/** `adapter NAME from "DIR"` (and `head`/`fusion`): the word must be `from`, the path non-empty. */
export function checkSourceClause(
  block: BlockDeclaration,
  from: SourceClause,
  bag: DiagnosticBag,
): boolean {
  if (from.keyword.text !== 'from') {
    bag.report(
      'E0111',
      from.keyword.span,
      `expected 'from' before the directory, found '${from.keyword.text}'`,
      `write: ${block.keyword.text} ${block.name.text} from ${from.path.text}`,
    );
    return false;
  }
  if (from.path.malformed) return false;
  if (from.path.value === '') {
    bag.report('E0108', from.path.span, 'the directory is empty', 'write its path');
    return false;
  }
  return true;
}

/**
 * `adapter NAME from "DIR"`: an adapter as the `adapters` library saved it
 * (`adapter_config.json`; the weights are read at run time). A `head_config.json` beside it
 * declares a head of the same name. Returns undefined after an error.
 */
export function checkSavedAdapter(
  block: BlockDeclaration,
  from: SourceClause,
  model: SavedModelFacts,
  readFile: ReadFile | undefined,
  bag: DiagnosticBag,
): { adapter: AdapterSpec; head?: PredictionHeadSpec } | undefined {
  collectProperties(block, [], bag);
  if (!checkSourceClause(block, from, bag)) return undefined;
  const read = readSavedJson(from.path, 'adapter_config.json', readFile, bag, {
    what: "an adapter saved by the adapters library's save_adapter",
  });
  if (!read || model.hidden === undefined || model.layers === undefined) return undefined;
  const name = block.name.text;
  try {
    const saved = readSavedAdapterConfig(read.value, read.file);
    if (saved.hidden_size !== undefined && saved.hidden_size !== model.hidden) {
      throw new AdapterConfigError(
        read.file,
        `${saved.hidden_size}, but the model's hidden size is ${model.hidden}`,
        'hidden_size',
      );
    }
    const parts = hubAdapterParts(saved.config, model.hidden, model.layers, read.file);
    const source = { dir: from.path.value, savedName: saved.name ?? name };
    const adapter: AdapterSpec = {
      name,
      ...parts,
      semantics: 'adapterhub',
      source,
      savedConfig: savedConfigOf(read.value),
      init: 'near_identity',
      span: block.span,
    };
    const head = readAdapterHead(block, from, model.hidden, readFile, bag, { optional: true });
    return head === null ? undefined : { adapter, ...(head ? { head } : {}) };
  } catch (error) {
    reportConfigError(error, from, bag);
    return undefined;
  }
}

/**
 * The head in DIR (`head_config.json`), named after the declaration. With `optional`, a
 * directory without one gives undefined; null after an error.
 */
export function readAdapterHead(
  block: BlockDeclaration,
  from: SourceClause,
  hidden: number,
  readFile: ReadFile | undefined,
  bag: DiagnosticBag,
  options: { readonly optional: boolean },
): PredictionHeadSpec | undefined | null {
  const read = readSavedJson(from.path, 'head_config.json', readFile, bag, {
    what: "a prediction head saved by the adapters library's save_head",
    optional: options.optional,
  });
  if (!read) return options.optional ? undefined : null;
  try {
    const { savedName, ...parts } = readHeadConfig(read.value, read.file, hidden);
    return {
      name: block.name.text,
      ...parts,
      source: { dir: from.path.value, savedName: savedName ?? block.name.text },
      savedConfig: savedConfigOf(read.value),
      span: block.span,
    };
  } catch (error) {
    reportConfigError(error, from, bag);
    return null;
  }
}
