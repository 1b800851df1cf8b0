import { ArgumentError, WeightError } from './errors.js';
import {
  describeValue,
  isRecord,
  readingCallerValues,
  requireKnownKeys,
  requireLimit,
  requireSeed,
} from './guards.js';
import { assertFits, estimateWeights } from './memory.js';
import type { Program, WeightInit, WeightSpec } from './program.js';
import type { Tensor, TensorMap } from './safetensors.js';
import { seededNormal } from './random.js';
import { elementCount, firstNonFinite, showShape } from './tensor.js';
import { validateProgram } from './validate-program.js';

export interface BoundWeights {
  /** Every weight the program reads, by its canonical name. */
  readonly tensors: ReadonlyMap<string, Float32Array>;
  /** Tensors given but not read by this program, by the name they had. */
  readonly ignored: readonly string[];
}

/** `bert.encoder...` → `bert.`: the first dotted segment, a candidate model prefix. */
function leadingSegment(name: string): string | undefined {
  const dot = name.indexOf('.');
  return dot > 0 ? name.slice(0, dot + 1) : undefined;
}

interface Match {
  readonly tensor: unknown;
  /** The name it had in the given map. */
  readonly as: string;
  /** '' when the name is the canonical one, else the prefix it carries. */
  readonly prefix: string;
}

/**
 * The tensors of one file that the manifest names, directly or under one leading prefix such as
 * `bert.`; a file that mixes the two ways, or two prefixes, is a problem: the prefix belongs to
 * the whole file (docs/design.md §3).
 */
function matchFile(
  file: TensorMap,
  wanted: ReadonlyMap<string, WeightSpec>,
  problems: string[],
): { matches: Map<string, Match>; ignored: string[] } {
  const matches = new Map<string, Match>();
  const ignored: string[] = [];
  const byPrefix = new Map<string, string>();
  for (const [name, tensor] of file) {
    if (typeof name !== 'string') throw new ArgumentError('tensor names must be strings');
    const segment = leadingSegment(name);
    const prefix = wanted.has(name) ? '' : segment;
    const canonical = prefix === undefined ? undefined : name.slice(prefix.length);
    if (prefix === undefined || canonical === undefined || !wanted.has(canonical)) {
      ignored.push(name);
      continue;
    }
    if (!byPrefix.has(prefix)) byPrefix.set(prefix, name);
    const earlier = matches.get(canonical);
    if (earlier) {
      problems.push(`tensor '${canonical}' is given twice, as '${earlier.as}' and '${name}'`);
      continue;
    }
    matches.set(canonical, { tensor, as: name, prefix });
  }
  if (byPrefix.size > 1) {
    const kinds = [...byPrefix].map(([prefix, name]) =>
      prefix === '' ? `'${name}' carries no prefix` : `'${name}' carries '${prefix}'`,
    );
    problems.push(
      `one model prefix for the whole file, or none: tensor ${kinds.join(', but tensor ')}`,
    );
  }
  return { matches, ignored };
}

/** The Float32Array of a bound weight, or the problem with it. */
function checkWeight(spec: WeightSpec, match: Match): Float32Array | string {
  const { tensor, as } = match;
  if (!isRecord(tensor)) return `tensor '${as}' must be an object { dtype, shape, data }`;
  const { data, shape, dtype } = tensor as Partial<Tensor>;
  if (!(data instanceof Float32Array)) {
    return `tensor '${as}' has dtype ${String(dtype ?? describeValue(data))}; weights must be F32, F16 or BF16`;
  }
  if (!Array.isArray(shape) || showShape(shape) !== showShape(spec.shape)) {
    const given = Array.isArray(shape) ? showShape(shape) : describeValue(shape);
    return `tensor '${as}' has shape ${given}, but the model needs ${showShape(spec.shape)}`;
  }
  if (data.length !== elementCount(spec.shape))
    return `tensor '${as}' has ${data.length} values for shape ${showShape(spec.shape)}`;
  const bad = firstNonFinite(data);
  if (bad) return `tensor '${as}': ${bad}`;
  return data;
}

/**
 * Matches the given tensors to the program's weight manifest by name (docs/design.md §3). One
 * map per file: each may carry one model prefix such as `bert.` on all its tensors. Reports
 * every missing, mis-shaped, non-float or non-finite tensor at once; tensors the program does
 * not read are returned as `ignored` for the caller to mention.
 */
export function bindWeights(
  programValue: Program,
  given: TensorMap | readonly TensorMap[],
): BoundWeights {
  const program = validateProgram(programValue);
  return readingCallerValues(
    () => bindFiles(program, given),
    (why) => new ArgumentError(`the weights: ${why}`),
  );
}

function bindFiles(program: Program, given: TensorMap | readonly TensorMap[]): BoundWeights {
  const files = given instanceof Map ? [given] : given;
  if (!Array.isArray(files) || !files.every((file) => file instanceof Map)) {
    throw new ArgumentError(
      `weights must be a Map of tensors (as loadSafetensors returns) or an array of them, got ${describeValue(given)}`,
    );
  }
  const wanted = new Map<string, WeightSpec>(program.weights.map((w) => [w.name, w]));
  const found = new Map<string, Match>();
  const ignored: string[] = [];
  const problems: string[] = [];
  for (const file of files) {
    const matched = matchFile(file, wanted, problems);
    ignored.push(...matched.ignored);
    for (const [canonical, match] of matched.matches) {
      const earlier = found.get(canonical);
      if (earlier) {
        problems.push(`tensor '${canonical}' is given twice, as '${earlier.as}' and '${match.as}'`);
        continue;
      }
      found.set(canonical, match);
    }
  }
  const tensors = new Map<string, Float32Array>();
  const missing: string[] = [];
  for (const spec of program.weights) {
    const match = found.get(spec.name);
    if (!match) {
      missing.push(spec.name);
      continue;
    }
    const checked = checkWeight(spec, match);
    if (typeof checked === 'string') problems.push(checked);
    else tensors.set(spec.name, checked);
  }
  if (missing.length > 0) {
    const shown = missing.slice(0, 20).map((name) => `'${name}'`);
    const more = missing.length > 20 ? ` and ${missing.length - 20} more` : '';
    problems.unshift(
      `${missing.length} tensor${missing.length > 1 ? 's are' : ' is'} missing: ${shown.join(', ')}${more}`,
    );
  }
  if (problems.length > 0) throw new WeightError(problems);
  return { tensors, ignored };
}

/** FNV-1a of a name, so each tensor's random stream depends on its name, not its position. */
function hashName(name: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < name.length; i++) {
    hash ^= name.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}

export function initTensor(spec: WeightSpec, seed: number): Float32Array {
  const data = new Float32Array(elementCount(spec.shape));
  const init: WeightInit = spec.init;
  if (init.kind === 'ones') data.fill(1);
  if (init.kind === 'normal') {
    const normal = seededNormal((hashName(spec.name) ^ Math.imul(seed, 0x9e3779b1)) >>> 0);
    for (let i = 0; i < data.length; i++) data[i] = normal() * init.std;
  }
  return data;
}

/**
 * Deterministic weights from a seed, as the manifest says (docs/design.md §3). Refuses, before
 * allocating, weights past `memoryLimitBytes` or a tensor larger than a typed array holds.
 */
export function initWeights(
  programValue: Program,
  seed: number,
  options: { readonly memoryLimitBytes?: number } = {},
): TensorMap {
  const program = validateProgram(programValue);
  requireSeed(seed);
  if (isRecord(options)) requireKnownKeys(options, ['memoryLimitBytes'], 'initWeights options');
  const limit = requireLimit(
    isRecord(options) ? options.memoryLimitBytes : options,
    'memoryLimitBytes',
  );
  assertFits(`the weights of graph '${program.graph}'`, estimateWeights(program), limit);
  const tensors: TensorMap = new Map();
  for (const spec of program.weights) {
    tensors.set(spec.name, { dtype: 'F32', shape: spec.shape, data: initTensor(spec, seed) });
  }
  return tensors;
}
