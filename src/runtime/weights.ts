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
import type { Program, ProgramText, WeightInit, WeightSpec } from './program.js';
import type { Tensor, TensorMap } from './safetensors.js';
import { fillWeightNormal } from './random.js';
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

/** The module a task model keeps its encoder under, as Hugging Face names it per family. */
const TASK_PREFIXES: Readonly<Record<ProgramText['family'], string>> = {
  bert: 'bert.',
  roberta: 'roberta.',
  distilbert: 'distilbert.',
  gpt2: 'transformer.',
};

/**
 * Buffers PyTorch saves beside the parameters: BERT's position ids in older checkpoints, and
 * the causal mask of older GPT-2 files. No program reads them, so they pass without a notice.
 */
const KNOWN_BUFFER = /(^|\.)(embeddings\.position_ids|attn\.bias|attn\.masked_bias)$/;

/**
 * The tensors of one checkpoint file that the manifest names. A task model's file holds its
 * encoder under the family's module (`bert.`, …, `transformer.` for GPT-2) and its head
 * (`classifier.…`) at the top, so the family prefix is taken or left per tensor.
 */
function matchCheckpointFile(
  file: TensorMap,
  wanted: ReadonlySet<string>,
  family: ProgramText['family'],
  problems: string[],
): { matches: Map<string, Match>; ignored: string[] } {
  const prefix = TASK_PREFIXES[family];
  const matches = new Map<string, Match>();
  const ignored: string[] = [];
  for (const [name, tensor] of file) {
    if (typeof name !== 'string') throw new ArgumentError('tensor names must be strings');
    const stripped = name.startsWith(prefix) ? name.slice(prefix.length) : undefined;
    const canonical = wanted.has(name)
      ? name
      : stripped !== undefined && wanted.has(stripped)
        ? stripped
        : undefined;
    if (canonical === undefined) {
      if (!KNOWN_BUFFER.test(name)) ignored.push(name);
      continue;
    }
    const earlier = matches.get(canonical);
    if (earlier) {
      problems.push(`tensor '${canonical}' is given twice, as '${earlier.as}' and '${name}'`);
      continue;
    }
    matches.set(canonical, { tensor, as: name, prefix: canonical === name ? '' : prefix });
  }
  return { matches, ignored };
}

/** The data and shape of a given tensor, or the problem with it. */
function readTensor(
  spec: WeightSpec,
  match: Match,
): { data: Float32Array; shape: readonly number[] } | string {
  const { tensor, as } = match;
  if (!isRecord(tensor)) return `tensor '${as}' must be an object { dtype, shape, data }`;
  const { data, shape, dtype } = tensor as Partial<Tensor>;
  if (!(data instanceof Float32Array)) {
    return `tensor '${as}' has dtype ${String(dtype ?? describeValue(data))}; weights must be F32, F16 or BF16`;
  }
  if (
    !Array.isArray(shape) ||
    !shape.every((d: unknown) => typeof d === 'number' && Number.isSafeInteger(d) && d >= 0)
  ) {
    const given = Array.isArray(shape) ? showShape(shape) : describeValue(shape);
    return `tensor '${as}' has shape ${given}, but the model needs ${showShape(spec.shape)}`;
  }
  return { data, shape };
}

/** `source` transposed where the spec says, then the rows it names: GPT-2's Conv1D and c_attn. */
function derive(
  spec: WeightSpec,
  from: NonNullable<WeightSpec['from']>,
  as: string,
  source: { data: Float32Array; shape: readonly number[] },
): Float32Array | string {
  const { data, shape } = source;
  const transposed = from.transpose ? [shape[1]!, shape[0]!] : shape;
  const how = `${from.rows ? `rows [${from.rows[0]}, ${from.rows[1]}) of ` : ''}${from.transpose ? 'its transpose' : 'it'}`;
  const fits =
    (!from.transpose || shape.length === 2) &&
    transposed.length === spec.shape.length &&
    transposed.every((d, i) => (i === 0 && from.rows ? from.rows[1] <= d : d === spec.shape[i]));
  if (!fits)
    return `tensor '${as}' has shape ${showShape(shape)}, but the model reads weight '${spec.name}' ${showShape(spec.shape)} as ${how}`;
  const [start] = from.rows ?? [0];
  const width = elementCount(spec.shape.slice(1));
  if (!from.transpose) return data.slice(start * width, (start + spec.shape[0]!) * width);
  const [rows, columns] = shape as [number, number];
  const out = new Float32Array(elementCount(spec.shape));
  for (let r = 0; r < spec.shape[0]!; r++) {
    for (let c = 0; c < rows; c++) out[r * rows + c] = data[c * columns + start + r]!;
  }
  return out;
}

/** The Float32Array of a bound weight, or the problem with it. */
function checkWeight(spec: WeightSpec, match: Match): Float32Array | string {
  const source = readTensor(spec, match);
  if (typeof source === 'string') return source;
  const { as } = match;
  let data: Float32Array;
  if (spec.from) {
    if (source.data.length !== elementCount(source.shape))
      return `tensor '${as}' has ${source.data.length} values for shape ${showShape(source.shape)}`;
    const derived = derive(spec, spec.from, as, source);
    if (typeof derived === 'string') return derived;
    data = derived;
  } else {
    if (showShape(source.shape) !== showShape(spec.shape))
      return `tensor '${as}' has shape ${showShape(source.shape)}, but the model needs ${showShape(spec.shape)}`;
    if (source.data.length !== elementCount(spec.shape))
      return `tensor '${as}' has ${source.data.length} values for shape ${showShape(spec.shape)}`;
    data = source.data;
  }
  const bad = firstNonFinite(data);
  if (bad) return `tensor '${as}': ${bad}`;
  return data;
}

/**
 * Matches the given tensors to the program's weight manifest by name (docs/design.md §3). One
 * map per file: each may carry one model prefix such as `bert.` on all its tensors. For a
 * program read from a checkpoint the family's task prefix is taken or left per tensor, weights
 * with `from` are derived from the tensor it names, and the buffers PyTorch saves are passed by. Reports
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
  // A weight derived from a checkpoint tensor is looked for under that tensor's name.
  const sourceOf = (spec: WeightSpec) => spec.from?.tensor ?? spec.name;
  const wanted = new Map<string, WeightSpec>(program.weights.map((w) => [sourceOf(w), w]));
  const text = program.model.text;
  const found = new Map<string, Match>();
  const ignored: string[] = [];
  const problems: string[] = [];
  for (const file of files) {
    const matched = text
      ? matchCheckpointFile(file, new Set(wanted.keys()), text.family, problems)
      : matchFile(file, wanted, problems);
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
  const missing = new Set<string>();
  for (const spec of program.weights) {
    const match = found.get(sourceOf(spec));
    if (!match) {
      missing.add(sourceOf(spec));
      continue;
    }
    const checked = checkWeight(spec, match);
    if (typeof checked === 'string') problems.push(checked);
    else tensors.set(spec.name, checked);
  }
  if (missing.size > 0) {
    const shown = [...missing].slice(0, 20).map((name) => `'${name}'`);
    const more = missing.size > 20 ? ` and ${missing.size - 20} more` : '';
    problems.unshift(
      `${missing.size} tensor${missing.size > 1 ? 's are' : ' is'} missing: ${shown.join(', ')}${more}`,
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
    fillWeightNormal(data, (hashName(spec.name) ^ Math.imul(seed, 0x9e3779b1)) >>> 0, init.std);
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
