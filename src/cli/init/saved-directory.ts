import { statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseJson, type JsonObject } from '../../compiler/index.js';
import { describeFsError } from '../fs-errors.js';
import { CliError } from '../io.js';
import { readInputFile } from '../input-file.js';
import { decodeUtf8 } from '../utf8.js';

/**
 * A directory given to `adapt init`: a Hugging Face checkpoint, or what the Python `adapters`
 * library writes with `save_adapter`, `save_head` and `save_adapter_fusion`
 * (`adapters/src/adapters/loading.py`: AdapterLoader, PredictionHeadLoader, AdapterFusionLoader).
 */
export type SavedDirectory =
  | { readonly kind: 'model'; readonly dir: string; readonly absolute: string }
  | {
      readonly kind: 'adapter';
      readonly dir: string;
      readonly absolute: string;
      readonly name: string;
      /** The name of the head saved beside the adapter, when there is one. */
      readonly head: string | undefined;
    }
  | {
      readonly kind: 'head';
      readonly dir: string;
      readonly absolute: string;
      readonly name: string;
    }
  | {
      readonly kind: 'fusion';
      readonly dir: string;
      readonly absolute: string;
      /** `DIR/adapter_fusion_config.json` as given, for messages. */
      readonly config: string;
      /** The member adapters' saved names, in the saved order. */
      readonly members: readonly string[];
    };

const CHECKPOINT_CONFIG = 'config.json';
const ADAPTER_CONFIG = 'adapter_config.json';
const HEAD_CONFIG = 'head_config.json';
const FUSION_CONFIG = 'adapter_fusion_config.json';

const WEIGHTS = {
  adapter: ['adapter.safetensors', 'pytorch_adapter.bin'],
  head: ['model_head.safetensors', 'pytorch_model_head.bin'],
  fusion: ['model_adapter_fusion.safetensors', 'pytorch_model_adapter_fusion.bin'],
} as const;

/** Configuration files are a few KiB; this keeps a stray file harmless. */
const MAX_CONFIG_BYTES = 16 * 2 ** 20;

const error = (path: string, message: string) => new CliError(`${path}: error: ${message}`);

function isFile(path: string): boolean {
  try {
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

/** Reads a JSON file strictly: valid UTF-8, RFC 8259 without repeated keys, an object at the top. */
function readJsonObject(cwd: string, path: string): JsonObject {
  const bytes = readInputFile(cwd, {
    path,
    what: 'a configuration file',
    maxBytes: MAX_CONFIG_BYTES,
  });
  const parsed = parseJson(decodeUtf8(bytes, path));
  if (!parsed.ok)
    throw new CliError(`${path}:${parsed.line}:${parsed.column}: error: ${parsed.message}`);
  if (!(parsed.value instanceof Map)) throw error(path, 'must hold a JSON object');
  return parsed.value as JsonObject;
}

/** The top-level `name` every AdapterHub configuration holds. */
function readName(cwd: string, path: string): string {
  const name = readJsonObject(cwd, path).get('name');
  if (typeof name !== 'string') {
    throw error(path, `'name' must be a string${name === undefined ? '; it is missing' : ''}`);
  }
  if (name === '') throw error(path, "'name' is empty");
  return name;
}

/** The member names of a fusion: its `name` is the adapters' names joined with `,`. */
function readMembers(cwd: string, path: string): string[] {
  const name = readName(cwd, path);
  const members = name.split(',');
  if (members.some((member) => member === '')) {
    throw error(path, `'name' ${JSON.stringify(name)} has an empty adapter name`);
  }
  const repeated = members.find((member, i) => members.indexOf(member) !== i);
  if (repeated !== undefined) {
    throw error(path, `'name' ${JSON.stringify(name)} names the adapter '${repeated}' twice`);
  }
  return members;
}

function requireWeights(dir: string, absolute: string, what: keyof typeof WEIGHTS): void {
  const [safetensors, bin] = WEIGHTS[what];
  if (isFile(join(absolute, safetensors)) || isFile(join(absolute, bin))) return;
  throw error(dir, `no ${what} weights (looked for ${safetensors} and ${bin})`);
}

/** Tells what a directory holds by its configuration files, and reads their names. */
export function readSavedDirectory(cwd: string, dir: string): SavedDirectory {
  const absolute = resolve(cwd, dir);
  try {
    if (!statSync(absolute).isDirectory()) throw error(dir, 'not a directory');
  } catch (cause) {
    if (cause instanceof CliError) throw cause;
    throw error(dir, `cannot read the directory (${describeFsError(cause)})`);
  }
  const present = (file: string) => isFile(join(absolute, file));
  const file = (name: string) => join(dir, name);
  const saved = [ADAPTER_CONFIG, HEAD_CONFIG, FUSION_CONFIG].filter(present);
  if (present(CHECKPOINT_CONFIG)) {
    if (saved.length > 0) {
      throw error(
        dir,
        `holds both a checkpoint (${CHECKPOINT_CONFIG}) and ${saved.join(', ')}; give each in its own directory`,
      );
    }
    readJsonObject(cwd, file(CHECKPOINT_CONFIG));
    return { kind: 'model', dir, absolute };
  }
  if (present(FUSION_CONFIG)) {
    if (saved.length > 1) {
      throw error(
        dir,
        `holds both a fusion (${FUSION_CONFIG}) and ${saved.filter((f) => f !== FUSION_CONFIG).join(', ')}; give each in its own directory`,
      );
    }
    const config = file(FUSION_CONFIG);
    const members = readMembers(cwd, config);
    requireWeights(dir, absolute, 'fusion');
    return { kind: 'fusion', dir, absolute, config, members };
  }
  if (present(ADAPTER_CONFIG)) {
    const name = readName(cwd, file(ADAPTER_CONFIG));
    requireWeights(dir, absolute, 'adapter');
    const head = present(HEAD_CONFIG) ? readName(cwd, file(HEAD_CONFIG)) : undefined;
    if (head !== undefined) requireWeights(dir, absolute, 'head');
    return { kind: 'adapter', dir, absolute, name, head };
  }
  if (present(HEAD_CONFIG)) {
    const name = readName(cwd, file(HEAD_CONFIG));
    requireWeights(dir, absolute, 'head');
    return { kind: 'head', dir, absolute, name };
  }
  throw error(
    dir,
    `neither a checkpoint nor a saved adapter, head or fusion (no ${[CHECKPOINT_CONFIG, ADAPTER_CONFIG, HEAD_CONFIG, FUSION_CONFIG].join(', ')})`,
  );
}
