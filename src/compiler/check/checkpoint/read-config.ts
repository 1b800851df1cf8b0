import type { DiagnosticBag } from '../../diagnostics.js';
import type { CheckpointSpec, Family } from '../../model.js';
import type { StringValue } from '../../syntax/ast.js';
import { ConfigReader, describeJson } from './config-reader.js';
import {
  MODEL_TYPES,
  readFamilyConfig,
  SUPPORTED_MODEL_TYPES,
  type BaseFacts,
} from './families.js';
import { readHead } from './head.js';
import { parseJson } from './json.js';

/** Reads a file for the compiler: its text, or undefined when there is no such file. */
export type ReadFile = (path: string) => string | undefined;

/** What a checkpoint's config.json says: the base model's facts and the checkpoint's. */
export interface CheckpointConfig {
  /** `DIR/config.json`, as given to the reader and named in messages. */
  readonly file: string;
  readonly base: BaseFacts;
  readonly checkpoint: CheckpointSpec;
}

/** E0114 for a spec that names a file when the host gave the compiler no reader. */
export function reportNoReader(path: StringValue, file: string, bag: DiagnosticBag): undefined {
  bag.report(
    'E0114',
    path.span,
    `cannot read ${file}: the compiler was given no way to read files`,
    'pass readFile to compile() or checkSource(), e.g. a function reading the path relative to the spec; the adapt CLI passes one',
  );
  return undefined;
}

/** `DIR/config.json`: the directory as written, joined with one `/`. */
export function configPath(dir: string): string {
  return /[/\\]$/.test(dir) ? `${dir}config.json` : `${dir}/config.json`;
}

/**
 * Reads and checks `DIR/config.json` for `model NAME from "DIR"`. Every problem is reported at
 * the directory string, naming the file (and the key); returns undefined after an error.
 * `wantHead` false (`head none`) keeps the checkpoint's head out of the graphs.
 */
export function readCheckpointConfig(
  path: StringValue,
  readFile: ReadFile | undefined,
  wantHead: boolean,
  bag: DiagnosticBag,
): CheckpointConfig | undefined {
  const dir = path.value;
  const file = configPath(dir);
  if (!readFile) return reportNoReader(path, file, bag);
  const text = readFile(file);
  if (text === undefined) {
    bag.report(
      'E0114',
      path.span,
      `no config.json in ${JSON.stringify(dir)} (looked for ${file})`,
      "the directory is relative to the spec file's folder, and holds a Hugging Face checkpoint: config.json beside model.safetensors",
    );
    return undefined;
  }
  const parsed = parseJson(text);
  if (!parsed.ok) {
    bag.report('E0115', path.span, `${file}:${parsed.line}:${parsed.column}: ${parsed.message}`);
    return undefined;
  }
  if (!(parsed.value instanceof Map)) {
    bag.report(
      'E0115',
      path.span,
      `${file}: must hold an object, got ${describeJson(parsed.value)}`,
    );
    return undefined;
  }
  const reader = new ConfigReader(file, parsed.value, bag, path.span);
  const modelType = reader.string('model_type');
  if (modelType === undefined) return undefined;
  const family: Family | undefined = Object.hasOwn(MODEL_TYPES, modelType)
    ? MODEL_TYPES[modelType]
    : undefined;
  if (!family) {
    reader.report(
      'model_type',
      `${describeJson(modelType).replace('the string ', '')} is not supported; the supported model types are ${SUPPORTED_MODEL_TYPES}`,
      'E0117',
    );
    return undefined;
  }
  const config = readFamilyConfig(reader, family, modelType);
  const head = readHead(reader, family, wantHead);
  if (!config || !head || reader.failed) return undefined;
  const checkpoint: CheckpointSpec = {
    dir,
    family,
    ...(head.architecture !== undefined ? { architecture: head.architecture } : {}),
    vocab: config.vocab,
    maxPositions: config.maxPositions,
    typeVocab: config.typeVocab,
    ...(config.padId !== undefined ? { padId: config.padId } : {}),
    positions: family === 'roberta' ? 'after-padding' : 'absolute',
    ...(config.embeddingEps !== undefined ? { embeddingEps: config.embeddingEps } : {}),
    ...(head.head ? { head: head.head } : {}),
  };
  return { file, base: config.base, checkpoint };
}
