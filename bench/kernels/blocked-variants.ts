/** Variants of the register-blocked matmul kernel: block shape, workgroup, unroll, mapping. */
import {
  ACTIVATION_FUNCTIONS,
  bindings,
  ENTRY_BUILTINS,
  FLAT_GROUP,
} from '../../src/compiler/codegen/wgsl.js';
import type { SizeExpr } from '../../src/runtime/program.js';
import type { Candidate } from './matmul-candidates.js';
import type { MatmulCase } from './matmul-cases.js';

const GELU_VEC4 = (v: string) =>
  `vec4f(act_gelu(${v}.x), act_gelu(${v}.y), act_gelu(${v}.z), act_gelu(${v}.w))`;

/**
 * A register-blocked kernel: each invocation computes `rows` rows x `cols` vec4 columns.
 * How invocations map to outputs:
 * - 'flat': rows and columns both from the flat invocation index (the compiler's kernel);
 * - 'urows': a workgroup covers one block of rows and `workgroup` column blocks, so x's index
 *   comes from the workgroup id alone and is uniform;
 * - 'lanes': the transpose: a workgroup covers `workgroup`·rows rows and one block of columns,
 *   so w's index is uniform across the workgroup and only x is read per invocation.
 * On a SIMD-over-invocations driver (llvmpipe) that emits a uniform load as one scalar load and
 * a broadcast, 'urows' and 'lanes' would read far less per multiply-add than 'flat'; whether the
 * driver in use does is what they measure.
 */
export interface Variant {
  readonly mapping: 'flat' | 'urows' | 'lanes';
  readonly rows: number;
  readonly cols: number;
  readonly workgroup: number;
  /** vec4 steps of k (4 scalar k each) per loop iteration. */
  readonly unroll: number;
  /** fma() instead of a + b * c. */
  readonly fma: boolean;
  /** An invocation's vec4 columns N4/cols apart instead of adjacent ('flat' and 'urows'). */
  readonly strided: boolean;
  /**
   * No early `return` for invocations past the last row: their reads are clamped to the last
   * row anyway, and only the stores are guarded. A return under a per-invocation condition
   * puts the rest of the shader under an execution mask on SIMD-over-invocations drivers.
   */
  readonly noReturn: boolean;
}

export const variantName = (v: Variant) =>
  `${v.mapping}_r${v.rows}c${v.cols}_wg${v.workgroup}_u${v.unroll}${v.fma ? '_fma' : ''}${v.strided ? '_strided' : ''}${v.noReturn ? '_noret' : ''}`;

const range = (n: number) => Array.from({ length: n }, (_, i) => i);

/** Blocks of work along rows and columns, and the workgroups of a dispatch as a SizeExpr. */
function layout(c: MatmulCase, v: Variant) {
  const k4 = c.k / 4;
  const n4 = c.n / 4;
  const blocks = n4 / v.cols;
  if (!Number.isInteger(blocks) || k4 % v.unroll !== 0)
    throw new Error(`${variantName(v)} does not divide ${c.k}x${c.n}`);
  const colGroups = Math.ceil(blocks / v.workgroup);
  // Each SizeExpr is ceil((perToken·rows + fixed) / divide), at least the workgroups needed.
  const groups: SizeExpr =
    v.mapping === 'flat'
      ? {
          perToken: blocks,
          perSequence: 0,
          fixed: blocks * (v.rows - 1),
          divide: v.rows * v.workgroup,
        }
      : v.mapping === 'urows'
        ? { perToken: colGroups, perSequence: 0, fixed: colGroups * (v.rows - 1), divide: v.rows }
        : {
            perToken: blocks,
            perSequence: 0,
            fixed: blocks * (v.rows * v.workgroup - 1),
            divide: v.rows * v.workgroup,
          };
  return { k4, n4, blocks, colGroups, groups };
}

function blockedWgsl(c: MatmulCase, v: Variant): string {
  const { k4, n4, blocks, colGroups } = layout(c, v);
  const R = range(v.rows);
  const C = range(v.cols);
  const U = range(v.unroll);
  const column = (j: number) =>
    v.mapping !== 'lanes' && v.strided ? `cb + ${j * blocks}u` : `cb * ${v.cols}u + ${j}u`;
  const update = (r: number, j: number, u: number) => {
    const a = `a${r}_${j}`;
    const x = `v${u}_${r}`;
    const w = (q: number) => `w${u}_${j}_${q}`;
    if (v.fma) {
      return `    ${a} = fma(vec4f(${x}.x), ${w(0)}, ${a}); ${a} = fma(vec4f(${x}.y), ${w(1)}, ${a}); ${a} = fma(vec4f(${x}.z), ${w(2)}, ${a}); ${a} = fma(vec4f(${x}.w), ${w(3)}, ${a});`;
    }
    return `    ${a} = ${a} + ${x}.x * ${w(0)} + ${x}.y * ${w(1)} + ${x}.z * ${w(2)} + ${x}.w * ${w(3)};`;
  };
  const body = U.flatMap((u) => [
    ...C.flatMap((j) =>
      range(4).map(
        (q) => `    let w${u}_${j}_${q} = w[(4u * (k + ${u}u) + ${q}u) * N4 + col${j}];`,
      ),
    ),
    ...R.flatMap((r) => [
      `    let v${u}_${r} = x[x${r} + k + ${u}u];`,
      ...C.map((j) => update(r, j, u)),
    ]),
  ]);
  // row(r): the output row of the invocation's r-th row; in 'lanes' rows are workgroup apart.
  const row = (r: number) =>
    v.mapping === 'lanes' ? `row0 + ${r * v.workgroup}u` : `row0 + ${r}u`;
  const mapping = {
    flat: [
      `  let index = group * ${v.workgroup}u + lid;`,
      '  let cb = index % BLOCKS;',
      `  let row0 = (index / BLOCKS) * ${v.rows}u;`,
      '  if (row0 >= params.rows) { return; }',
    ],
    urows: [
      `  let cb = (group % COL_GROUPS) * ${v.workgroup}u + lid;`,
      `  let row0 = (group / COL_GROUPS) * ${v.rows}u;`,
      `  if (row0 >= params.rows${blocks % v.workgroup ? ' || cb >= BLOCKS' : ''}) { return; }`,
    ],
    lanes: [
      '  let cb = group % BLOCKS;',
      `  let first = (group / BLOCKS) * ${v.rows * v.workgroup}u;`,
      '  if (first >= params.rows) { return; }',
      '  let row0 = first + lid;',
    ],
  }[v.mapping].filter((line) => !(v.noReturn && line.includes('return;')));
  if (v.noReturn && v.mapping === 'urows' && blocks % v.workgroup !== 0)
    throw new Error(`${variantName(v)}: columns past the last block need the early return`);
  const store = R.flatMap((r) =>
    C.map(
      (j) =>
        `  if (${row(r)} < params.rows) { var v = a${r}_${j} + bias[col${j}]; ${c.gelu ? `v = ${GELU_VEC4('v')}; ` : ''}out[(${row(r)}) * N4 + col${j}] = v; }`,
    ),
  );
  return `${bindings(['x', 'w', 'bias', 'out'], ['vec4f', 'vec4f', 'vec4f', 'vec4f'])}
${c.gelu ? ACTIVATION_FUNCTIONS.gelu : ''}
const K4 = ${k4}u;
const N4 = ${n4}u;
const BLOCKS = ${blocks}u;
const COL_GROUPS = ${colGroups}u;

@compute @workgroup_size(${v.workgroup})
fn main(${ENTRY_BUILTINS}) {
  ${FLAT_GROUP}
${mapping.join('\n')}
  let last = params.rows - 1u;
${C.map((j) => `  let col${j} = ${column(j)};`).join('\n')}
${R.map((r) => `  let x${r} = min(${row(r)}, last) * K4;`).join('\n')}
${R.flatMap((r) => C.map((j) => `  var a${r}_${j} = vec4f(0.0);`)).join('\n')}
  for (var k = 0u; k < K4; k = k + ${v.unroll}u) {
${body.join('\n')}
  }
${store.join('\n')}
}
`;
}

export function variantKernel(c: MatmulCase, v: Variant): Candidate {
  return {
    label: `variant ${variantName(v)}`,
    kernel: variantName(v),
    wgsl: blockedWgsl(c, v),
    groups: layout(c, v).groups,
  };
}

const FLAT: Variant = {
  mapping: 'flat',
  rows: 4,
  cols: 1,
  workgroup: 64,
  unroll: 1,
  fma: false,
  strided: false,
  noReturn: false,
};
const LANES: Variant = { ...FLAT, mapping: 'lanes', rows: 1, cols: 4 };

/**
 * Variants of the register-blocked kernel; the first one is the compiler's kernel, re-emitted.
 * Tried here and dropped as clearly slower on lavapipe: 2x4 and 16x1 blocks, 'lanes' without the
 * early return, more k unroll.
 */
export const VARIANT_LIST: readonly Variant[] = [
  FLAT,
  // register blocks: rows x vec4 columns per invocation
  { ...FLAT, rows: 2, cols: 2 },
  { ...FLAT, rows: 8 },
  { ...FLAT, cols: 2 },
  { ...FLAT, rows: 4, cols: 4 },
  { ...FLAT, rows: 8, cols: 2 },
  { ...FLAT, rows: 8, cols: 4 },
  // workgroup size, k unroll, fma, column order, early return
  { ...FLAT, workgroup: 128 },
  { ...FLAT, workgroup: 256 },
  { ...FLAT, cols: 2, workgroup: 128 },
  { ...FLAT, unroll: 2 },
  { ...FLAT, fma: true },
  { ...FLAT, cols: 2, strided: true },
  { ...FLAT, noReturn: true },
  { ...FLAT, cols: 2, noReturn: true },
  // index mappings that make one operand's index uniform across the workgroup
  { ...FLAT, mapping: 'urows' },
  { ...FLAT, mapping: 'urows', cols: 2 },
  LANES,
  { ...LANES, rows: 2, cols: 2 },
];
