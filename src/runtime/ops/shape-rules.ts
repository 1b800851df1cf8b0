import type { Dim, Shape } from '../program.js';
import { sameShape, showShape } from '../validate/read.js';

/**
 * Output shapes from input shapes, or the reason the inputs do not fit. The registry names one of
 * these per op; the graph builder, the verifier and the program loader all call them.
 */
export type ShapeResult = Shape | string;

export const last = (shape: Shape): Dim | undefined => shape[shape.length - 1];
export const withLast = (shape: Shape, dim: Dim): Shape => [...shape.slice(0, -1), dim];

export const sameAsFirst = ([x]: readonly Shape[]): ShapeResult => x!;

export function allSame(shapes: readonly Shape[]): ShapeResult {
  const first = shapes[0]!;
  if (shapes.some((shape) => !sameShape(shape, first)))
    return `shapes differ: ${shapes.map(showShape).join(' ')}`;
  return first;
}

export function matmulShape(x: Shape, w: Shape): ShapeResult {
  if (x.length === 0) return 'the input must have at least one axis';
  if (w.length !== 2) return `the weight must be 2-D [out, in], got ${showShape(w)}`;
  if (last(x) !== w[1]) return `inner sizes differ: ${showShape(x)} times ${showShape(w)}ᵀ`;
  return withLast(x, w[0]!);
}

/** b broadcast onto a from the right: each of b's dims equals a's or is 1. */
export function broadcastShape([a, b]: readonly Shape[]): ShapeResult {
  const fits =
    b!.length <= a!.length &&
    b!.every((dim, i) => dim === 1 || dim === a![a!.length - b!.length + i]);
  return fits ? a! : `cannot broadcast ${showShape(b!)} onto ${showShape(a!)}`;
}

/** The [d] gamma and beta of a row normalization of x [..., d]. */
export function rowParameters(x: Shape, gamma: Shape, beta: Shape): string | undefined {
  const d = last(x);
  if (d === undefined) return 'the input must have at least one axis';
  if (!sameShape(gamma, [d]) || !sameShape(beta, [d])) return `gamma and beta must be [${d}]`;
  return undefined;
}

export function attentionShape(inputs: readonly Shape[], heads: number): ShapeResult {
  const qkv = allSame(inputs.slice(0, 3));
  if (typeof qkv === 'string') return qkv;
  if (qkv.length !== 3) return `q, k and v must be [B, T, d], got ${showShape(qkv)}`;
  const d = qkv[2]!;
  if (typeof d !== 'number' || d % heads !== 0) return `heads (${heads}) must divide d (${d})`;
  if (!sameShape(inputs[3]!, [qkv[0]!, qkv[1]!]))
    return `the mask must be [${qkv[0]}, ${qkv[1]}], got ${showShape(inputs[3]!)}`;
  return qkv;
}

export interface LinearLayout {
  readonly bias: boolean;
  readonly residual: boolean;
  readonly transposeWeight: boolean;
}

export function linearShape(inputs: readonly Shape[], layout: LinearLayout): ShapeResult {
  const [x, w] = inputs as [Shape, Shape];
  const weight = layout.transposeWeight && w.length === 2 ? [w[1]!, w[0]!] : w;
  const out = matmulShape(x, weight);
  if (typeof out === 'string') return out;
  const expected = 2 + (layout.bias ? 1 : 0) + (layout.residual ? 1 : 0);
  if (inputs.length !== expected) return `takes ${expected} inputs, got ${inputs.length}`;
  if (layout.bias && !sameShape(inputs[2]!, [weight[0]!])) return `the bias must be [${weight[0]}]`;
  if (layout.residual && !sameShape(inputs[inputs.length - 1]!, out))
    return `the residual must be ${showShape(out)}`;
  return out;
}

export interface BottleneckLayout {
  readonly activations: readonly string[];
  readonly scales: readonly number[];
  readonly reads: readonly string[];
  readonly residual: boolean;
}

export function bottleneckShape(inputs: readonly Shape[], layout: BottleneckLayout): ShapeResult {
  const [y, u] = inputs as [Shape, Shape];
  const count = layout.scales.length;
  for (const list of ['activations', 'reads'] as const) {
    if (layout[list].length !== count)
      return `${list} has ${layout[list].length} entries for ${count} adapters`;
  }
  if (inputs.length !== 2 + 4 * count)
    return `takes ${2 + 4 * count} inputs for ${count} adapters, got ${inputs.length}`;
  if (!layout.residual && count !== 1) return 'a bottleneck without residual holds one adapter';
  if (!sameShape(y, u)) return `y ${showShape(y)} and u ${showShape(u)} must have one shape`;
  const d = last(y);
  if (d === undefined) return 'y must have at least one axis';
  for (let i = 0; i < count; i++) {
    const [wd, bd, wu, bu] = inputs.slice(2 + 4 * i, 6 + 4 * i) as [Shape, Shape, Shape, Shape];
    const r = wd[0];
    const fits =
      r !== undefined &&
      sameShape(wd, [r, d]) &&
      sameShape(bd, [r]) &&
      sameShape(wu, [d, r]) &&
      sameShape(bu, [d]);
    if (!fits) return `the weights of adapter ${i} do not fit hidden size ${d}`;
  }
  return y;
}

export function rowDotShape(inputs: readonly Shape[]): ShapeResult {
  const shape = allSame(inputs);
  if (typeof shape === 'string' || shape.length === 0) return 'takes two tensors of one shape';
  return withLast(shape, 1);
}

export function concatShape(inputs: readonly Shape[]): ShapeResult {
  const shape = allSame(inputs);
  if (typeof shape === 'string') return shape;
  if (last(shape) !== 1) return 'takes tensors [..., 1]';
  return withLast(shape, inputs.length);
}

export function weightedSumShape([alpha, ...values]: readonly Shape[]): ShapeResult {
  const shape = allSame(values);
  if (typeof shape === 'string') return shape;
  if (shape.length === 0) return 'the values must have at least one axis';
  const expected = withLast(shape, values.length);
  if (!sameShape(alpha!, expected))
    return `α must be ${showShape(expected)} for ${values.length} values, got ${showShape(alpha!)}`;
  return shape;
}

export function selectShape([index, ...branches]: readonly Shape[]): ShapeResult {
  if (index!.length !== 1) return `the index must be [B], got ${showShape(index!)}`;
  const shape = allSame(branches);
  if (typeof shape === 'string') return shape;
  if (shape[0] !== index![0]) return 'the branches must share the batch axis of the index';
  return shape;
}

export function addLayerNormShape([x, y, gamma, beta]: readonly Shape[]): ShapeResult {
  if (!sameShape(x!, y!)) return `x ${showShape(x!)} and y ${showShape(y!)} must have one shape`;
  return rowParameters(x!, gamma!, beta!) ?? x!;
}

export function fusionMixShape(inputs: readonly Shape[]): ShapeResult {
  const shape = allSame(inputs);
  if (typeof shape === 'string') return shape;
  return shape.length === 0 ? 'the inputs must have at least one axis' : shape;
}

/** Rows of a table [V, d] by ids [...]: [..., d]. */
export function gatherShape(table: Shape, ids: Shape): ShapeResult {
  if (table.length !== 2 || typeof table[0] !== 'number' || typeof table[1] !== 'number')
    return `the table must be a fixed [V, d], got ${showShape(table)}`;
  if (ids.length === 0) return 'the ids must have at least one axis';
  return [...ids, table[1]];
}

/** Row 0 of each sequence of x [B, T, ...]: [B, ...]. */
export function firstTokenShape([x]: readonly Shape[]): ShapeResult {
  if (x!.length < 3 || x![1] !== 'T') return `takes [B, T, ...], got ${showShape(x!)}`;
  return [x![0]!, ...x!.slice(2)];
}

/** The mean over the positions of x [B, T, C]: [B, 1, C]. */
export function tokenMeanShape([x]: readonly Shape[]): ShapeResult {
  if (x!.length !== 3 || x![1] !== 'T') return `takes [B, T, C], got ${showShape(x!)}`;
  return [x![0]!, 1, x![2]!];
}

export interface EmbeddingsLayout {
  readonly tokenTypes: boolean;
  readonly layerNorm: boolean;
}

/**
 * [ids, word, positionIds, position, (typeIds, type)?, (gamma, beta)?]: every id tensor of one
 * shape, every table [*, d], gamma and beta [d]; the output is [...ids, d].
 */
export function embeddingsShape(inputs: readonly Shape[], layout: EmbeddingsLayout): ShapeResult {
  const expected = 4 + (layout.tokenTypes ? 2 : 0) + (layout.layerNorm ? 2 : 0);
  if (inputs.length !== expected) return `takes ${expected} inputs, got ${inputs.length}`;
  const pairs = layout.tokenTypes ? [0, 2, 4] : [0, 2];
  const [ids, word] = inputs as [Shape, Shape];
  const out = gatherShape(word, ids);
  if (typeof out === 'string') return `word embeddings: ${out}`;
  for (const at of pairs.slice(1)) {
    const [otherIds, table] = [inputs[at]!, inputs[at + 1]!];
    if (!sameShape(otherIds, ids))
      return `ids ${showShape(otherIds)} differ from the token ids ${showShape(ids)}`;
    const rows = gatherShape(table, otherIds);
    if (typeof rows === 'string' || !sameShape(rows, out))
      return `table ${showShape(table)} must be [*, ${String(last(out))}]`;
  }
  if (layout.layerNorm) {
    const [gamma, beta] = inputs.slice(-2) as [Shape, Shape];
    const problem = rowParameters(out, gamma, beta);
    if (problem) return problem;
  }
  return out;
}

/** Aᵀ·B for A [m, n] and B [m, p] or [m]: [n, p] or [n], fixed sizes only (load-time values). */
export function weightProductShape([a, b]: readonly Shape[]): ShapeResult {
  if (a!.length !== 2 || a!.some((d) => typeof d !== 'number'))
    return `A must be a fixed 2-D [m, n], got ${showShape(a!)}`;
  if ((b!.length !== 1 && b!.length !== 2) || b!.some((d) => typeof d !== 'number'))
    return `B must be a fixed [m, p] or [m], got ${showShape(b!)}`;
  if (a![0] !== b![0]) return `the first axes differ: ${showShape(a!)} and ${showShape(b!)}`;
  return [a![1]!, ...b!.slice(1)];
}

/** The slot index of a per-sequence op: [B], for values [B, ...]. */
function slotIndexProblem(x: Shape, slot: Shape): string | undefined {
  return sameShape(slot, [x[0]!])
    ? undefined
    : `the slot index must be [${x[0]}], got ${showShape(slot)}`;
}

/** slot_bottleneck: residual and z [B, T, d], slot [B], the four stacked tensors and scale [S]. */
export function slotBottleneckShape(inputs: readonly Shape[]): ShapeResult {
  const [residual, z, slot, wd, bd, wu, bu, scale] = inputs as Shape[] as [
    Shape,
    Shape,
    Shape,
    Shape,
    Shape,
    Shape,
    Shape,
    Shape,
  ];
  if (residual.length !== 3 || !sameShape(residual, z))
    return `residual ${showShape(residual)} and z ${showShape(z)} must be one [B, T, d]`;
  const problem = slotIndexProblem(residual, slot);
  if (problem) return problem;
  const d = last(residual);
  const [count, r] = wd;
  const fits =
    typeof count === 'number' &&
    typeof r === 'number' &&
    sameShape(wd, [count, r, d!]) &&
    sameShape(bd, [count, r]) &&
    sameShape(wu, [count, d!, r]) &&
    sameShape(bu, [count, d!]) &&
    sameShape(scale, [count]);
  if (!fits) return `the stacked weights do not fit hidden size ${String(d)}`;
  return residual;
}

/** slot_linear: x [B, n] or [B, T, n], slot [B], W [S, out, n], b [S, out]. */
export function slotLinearShape([x, slot, w, b]: readonly Shape[]): ShapeResult {
  if (x!.length !== 2 && x!.length !== 3)
    return `x must be [B, n] or [B, T, n], got ${showShape(x!)}`;
  const problem = slotIndexProblem(x!, slot!);
  if (problem) return problem;
  const [count, out, n] = w!;
  if (w!.length !== 3 || n !== last(x!))
    return `the stacked weight must be [S, out, ${String(last(x!))}], got ${showShape(w!)}`;
  if (!sameShape(b!, [count!, out!])) return `the stacked bias must be [${count}, ${out}]`;
  return withLast(x!, out!);
}
