import { WeightError } from './errors.js';
import { requireLimit, requireSeed } from './guards.js';
import { assertFits, estimateWeights } from './memory.js';
import type { Program, WeightInit, WeightSpec } from './program.js';
import type { Tensor, TensorMap } from './safetensors.js';
import { seededNormal } from './random.js';
import { elementCount } from './tensor.js';

export interface BoundWeights {
  /** Every weight the program reads, by its canonical name. */
  readonly tensors: ReadonlyMap<string, Float32Array>;
  /** Tensors given but not read by this program, by the name they had. */
  readonly ignored: readonly string[];
}

/** `bert.encoder...` → `encoder...`: one leading model prefix is accepted. */
function withoutPrefix(name: string): string | undefined {
  const dot = name.indexOf('.');
  return dot > 0 ? name.slice(dot + 1) : undefined;
}

const showShape = (shape: readonly number[]) => `[${shape.join(', ')}]`;

/**
 * Matches the given tensors to the program's weight manifest by name (docs/design.md §3). Reports
 * every missing, mis-shaped or non-float tensor at once; tensors the program does not read are
 * returned as `ignored` for the caller to mention.
 */
export function bindWeights(program: Program, given: TensorMap): BoundWeights {
  const wanted = new Map<string, WeightSpec>(program.weights.map((w) => [w.name, w]));
  const found = new Map<string, { tensor: Tensor; as: string }>();
  const ignored: string[] = [];
  const problems: string[] = [];
  for (const [name, tensor] of given) {
    const canonical = wanted.has(name) ? name : withoutPrefix(name);
    if (canonical === undefined || !wanted.has(canonical)) {
      ignored.push(name);
      continue;
    }
    const earlier = found.get(canonical);
    if (earlier) {
      problems.push(`tensor '${canonical}' is given twice, as '${earlier.as}' and '${name}'`);
      continue;
    }
    found.set(canonical, { tensor, as: name });
  }
  const tensors = new Map<string, Float32Array>();
  const missing: string[] = [];
  for (const spec of program.weights) {
    const entry = found.get(spec.name);
    if (!entry) {
      missing.push(spec.name);
      continue;
    }
    const { tensor, as } = entry;
    if (!(tensor.data instanceof Float32Array)) {
      problems.push(`tensor '${as}' has dtype ${tensor.dtype}; weights must be F32, F16 or BF16`);
    } else if (showShape(tensor.shape) !== showShape(spec.shape)) {
      problems.push(
        `tensor '${as}' has shape ${showShape(tensor.shape)}, but the model needs ${showShape(spec.shape)}`,
      );
    } else {
      tensors.set(spec.name, tensor.data);
    }
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
  program: Program,
  seed: number,
  options: { readonly memoryLimitBytes?: number } = {},
): TensorMap {
  requireSeed(seed);
  const limit = requireLimit(options.memoryLimitBytes, 'memoryLimitBytes');
  assertFits(`the weights of graph '${program.graph}'`, estimateWeights(program), limit);
  const tensors: TensorMap = new Map();
  for (const spec of program.weights) {
    tensors.set(spec.name, { dtype: 'F32', shape: spec.shape, data: initTensor(spec, seed) });
  }
  return tensors;
}
