import { type KernelTemplate, argOf } from '../kernel.js';
import { bindings, ENTRY_BUILTINS, FLAT_GROUP, opaqueBound } from '../wgsl.js';

/**
 * The product R = Xᵀ·Y that one kernel computes, X [m, r] and Y [m, c] giving R [r, c]: Aᵀ·B
 * itself (X = A, Y = B), or its transpose (Aᵀ·B)ᵀ = Bᵀ·A (X = B, Y = A), the k-major layout the
 * linear kernels read their weights in.
 */
interface Product {
  readonly m: number;
  readonly r: number;
  readonly c: number;
  /** The bindings X and Y are read from. */
  readonly x: 'a' | 'b';
  readonly y: 'a' | 'b';
}

/**
 * Register blocking, as the software matmuls: each invocation computes 4 rows × one vec4 of
 * columns, one vec4 of X and one of Y per step of m. On lavapipe, 16×16 workgroup-memory tiles
 * took about 2 s per 768³ product at load (BERT-base's fusion: 25 s), this about 0.1 s.
 */
function vec4Kernel(p: Product) {
  const r4 = p.r / 4;
  const c4 = p.c / 4;
  const wgsl = `${bindings(['a', 'b', 'out'], ['vec4f', 'vec4f', 'vec4f'])}
const M = ${p.m}u;
const R4 = ${r4}u;
const C4 = ${c4}u;

@compute @workgroup_size(64)
fn main(${ENTRY_BUILTINS}) {
  ${FLAT_GROUP}
  let index = group * 64u + lid;
  let col = index % C4;
  let row4 = index / C4;
  if (row4 >= R4) { return; }
  var a0 = vec4f(0.0);
  var a1 = vec4f(0.0);
  var a2 = vec4f(0.0);
  var a3 = vec4f(0.0);
  for (var k = 0u; k < ${opaqueBound('M')}; k = k + 1u) {
    let xv = ${p.x}[k * R4 + row4];
    let yv = ${p.y}[k * C4 + col];
    a0 = a0 + xv.x * yv;
    a1 = a1 + xv.y * yv;
    a2 = a2 + xv.z * yv;
    a3 = a3 + xv.w * yv;
  }
  let row = row4 * 4u;
  out[row * C4 + col] = a0;
  out[(row + 1u) * C4 + col] = a1;
  out[(row + 2u) * C4 + col] = a2;
  out[(row + 3u) * C4 + col] = a3;
}
`;
  return { wgsl, groups: Math.ceil((r4 * c4) / 64) };
}

/** Any sizes (a bias vector, widths not multiples of 4): one output per invocation. */
function scalarKernel(p: Product) {
  const wgsl = `${bindings(['a', 'b', 'out'])}
const M = ${p.m}u;
const R = ${p.r}u;
const C = ${p.c}u;

@compute @workgroup_size(64)
fn main(${ENTRY_BUILTINS}) {
  ${FLAT_GROUP}
  let index = group * 64u + lid;
  if (index >= R * C) { return; }
  let row = index / C;
  let col = index % C;
  var sum = 0.0;
  for (var k = 0u; k < ${opaqueBound('M')}; k = k + 1u) { sum = sum + ${p.x}[k * R + row] * ${p.y}[k * C + col]; }
  out[index] = sum;
}
`;
  return { wgsl, groups: Math.ceil((p.r * p.c) / 64) };
}

/**
 * Aᵀ·B of a load-time node, run once at load: [n, p] (a vector B gives [n]), or [p, n] with
 * `transposeOutput`. The same kernel serves both profiles: it runs once, not per pass.
 */
export const weightProductKernel: KernelTemplate<'weight_product'> = (node, context) => {
  const [a, b] = node.inputs as [number, number];
  const [m, n] = context.node(a).shape as [number, number];
  const p = node.shape.length === 1 ? 1 : (node.shape[1] as number);
  const transposed = context.transposeOutput === true && p > 1;
  const product: Product = transposed
    ? { m, r: p, c: n, x: 'b', y: 'a' }
    : { m, r: n, c: p, x: 'a', y: 'b' };
  const vec4 = product.r % 4 === 0 && product.c % 4 === 0;
  const { wgsl, groups } = vec4 ? vec4Kernel(product) : scalarKernel(product);
  return {
    name: `weight_product_${vec4 ? 'vec4' : 'scalar'}_${m}x${n}x${p}${transposed ? '_t' : ''}`,
    wgsl,
    args: [argOf(context, a), argOf(context, b)],
    groups: { perToken: 0, perSequence: 0, fixed: groups, divide: 1 },
  };
};
