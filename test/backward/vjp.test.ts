import { describe, expect, it } from 'vitest';
import {
  BackwardError,
  FORWARD_KERNELS,
  VJPS,
  type DifferentiableOp,
  type Value64,
  type Vjp,
} from '../../src/runtime/cpu/backward/index.js';
import type { ForwardKernel } from '../../src/runtime/cpu/backward/forward-kernels.js';
import { CPU_KERNELS } from '../../src/runtime/cpu/all-kernels.js';
import { ACTIVATIONS } from '../../src/runtime/ops/registry.js';
import { relativeError } from '../helpers/numerics.js';
import { dot, normals } from './finite-differences.js';

interface OpCase {
  readonly op: DifferentiableOp;
  readonly label?: string;
  readonly inputs: readonly (Value64 | readonly number[])[];
  readonly attrs?: object;
  readonly outShape: readonly number[];
}

const mask = (rows: number[][]): Value64 => ({
  data: Int32Array.from(rows.flat()),
  shape: [rows.length, rows[0]!.length],
});

const CASES: OpCase[] = [
  {
    op: 'matmul',
    inputs: [
      [2, 3, 5],
      [4, 5],
    ],
    outShape: [2, 3, 4],
  },
  {
    op: 'add',
    label: 'same shape',
    inputs: [
      [2, 3, 4],
      [2, 3, 4],
    ],
    outShape: [2, 3, 4],
  },
  { op: 'add', label: 'a bias [d]', inputs: [[2, 3, 4], [4]], outShape: [2, 3, 4] },
  { op: 'mul', label: 'a scaling [1]', inputs: [[2, 3, 4], [1]], outShape: [2, 3, 4] },
  {
    op: 'mul',
    label: 'a gate [B, 1, 1]',
    inputs: [
      [2, 3, 4],
      [2, 1, 1],
    ],
    outShape: [2, 3, 4],
  },
  {
    op: 'mul',
    label: 'a row [B, T, 1]',
    inputs: [
      [2, 3, 4],
      [2, 3, 1],
    ],
    outShape: [2, 3, 4],
  },
  { op: 'scale', inputs: [[2, 5]], attrs: { factor: -1.7 }, outShape: [2, 5] },
  ...ACTIVATIONS.map((op): OpCase => ({ op, inputs: [[3, 7]], outShape: [3, 7] })),
  { op: 'layer_norm', inputs: [[2, 3, 6], [6], [6]], attrs: { eps: 1e-5 }, outShape: [2, 3, 6] },
  {
    op: 'attention',
    label: 'bidirectional, with padding',
    inputs: [
      [2, 4, 6],
      [2, 4, 6],
      [2, 4, 6],
      mask([
        [1, 1, 1, 1],
        [1, 1, 0, 0],
      ]),
    ],
    attrs: { heads: 2, causal: false },
    outShape: [2, 4, 6],
  },
  {
    op: 'attention',
    label: 'causal, with padding and a query that sees no key',
    inputs: [
      [2, 4, 6],
      [2, 4, 6],
      [2, 4, 6],
      mask([
        [1, 0, 1, 1],
        [0, 1, 1, 0],
      ]),
    ],
    attrs: { heads: 3, causal: true },
    outShape: [2, 4, 6],
  },
  {
    op: 'row_dot',
    inputs: [
      [2, 3, 5],
      [2, 3, 5],
    ],
    outShape: [2, 3, 1],
  },
  {
    op: 'concat',
    inputs: [
      [2, 3, 1],
      [2, 3, 1],
      [2, 3, 1],
    ],
    outShape: [2, 3, 3],
  },
  { op: 'softmax', inputs: [[4, 5]], outShape: [4, 5] },
  {
    op: 'weighted_sum',
    inputs: [
      [2, 3, 2],
      [2, 3, 4],
      [2, 3, 4],
    ],
    outShape: [2, 3, 4],
  },
  { op: 'first_token', inputs: [[3, 4, 5]], outShape: [3, 5] },
  { op: 'token_mean', inputs: [[3, 4, 5]], outShape: [3, 1, 5] },
  {
    op: 'select',
    inputs: [{ data: Int32Array.from([1, 0, 1]), shape: [3] }, [3, 2, 4], [3, 2, 4]],
    outShape: [3, 2, 4],
  },
];

function materialize(c: OpCase, seed: number): Value64[] {
  return c.inputs.map((input, i) =>
    'data' in input
      ? input
      : {
          data: normals(
            input.reduce((n, d) => n * d, 1),
            seed + i,
          ),
          shape: input,
        },
  );
}

const forward = (c: OpCase, inputs: readonly Value64[]) =>
  (FORWARD_KERNELS[c.op] as ForwardKernel<DifferentiableOp>)(inputs, c.attrs as never, c.outShape);

describe('vector-Jacobian products against central differences', () => {
  CASES.forEach((c, index) => {
    it(`${c.op}${c.label ? ` (${c.label})` : ''}`, () => {
      const inputs = materialize(c, 100 * index + 1);
      const output = { data: forward(c, inputs), shape: c.outShape };
      const r = normals(output.data.length, 100 * index + 50);
      const wanted = inputs.map((input) => input.data instanceof Float64Array);
      const vjp = VJPS[c.op] as Vjp<DifferentiableOp>;
      const grads = vjp(inputs, output, r, c.attrs as never, wanted);
      const loss = () => dot(forward(c, inputs), r);
      const h = 1e-6;
      inputs.forEach((input, k) => {
        if (!(input.data instanceof Float64Array)) {
          expect(grads[k], `input ${k} is i32`).toBeUndefined();
          return;
        }
        const data = input.data;
        const numeric = Float64Array.from(data, (original, i) => {
          data[i] = original + h;
          const up = loss();
          data[i] = original - h;
          const down = loss();
          data[i] = original;
          return (up - down) / (2 * h);
        });
        expect(numeric.some((g) => Math.abs(g) > 1e-3)).toBe(true);
        // h = 1e-6 in f64: truncation about 1e-12, rounding about 1e-10 per element.
        expect(relativeError(grads[k]!, numeric)).toBeLessThan(1e-7);
      });
    });
  });

  it('gives a query that sees no key no gradient, as its output is zeros', () => {
    const c = CASES.find((x) => x.label?.startsWith('causal'))!;
    const inputs = materialize(c, 7);
    const output = { data: forward(c, inputs), shape: c.outShape };
    const r = normals(output.data.length, 8);
    const [dq] = VJPS.attention(inputs, output, r, c.attrs as never, [true, true, true, false]);
    // Sequence 1, query 0: key 0 is padding and the causal mask hides every later key.
    const query = dq!.subarray(4 * 6, 5 * 6);
    expect([...query]).toEqual(new Array(6).fill(0));
  });
});

describe('the f64 forward kernels', () => {
  CASES.forEach((c, index) => {
    it(`${c.op}${c.label ? ` (${c.label})` : ''} equals the CPU reference's kernel`, () => {
      const inputs = materialize(c, 100 * index + 1);
      const f32 = inputs.map((input) => ({
        data: input.data instanceof Float64Array ? Float32Array.from(input.data) : input.data,
        shape: input.shape,
      }));
      const kernel = CPU_KERNELS[c.op] as (
        i: typeof f32,
        a: never,
        s: readonly number[],
      ) => Float32Array;
      const reference = kernel(f32, c.attrs as never, c.outShape);
      const mine = forward(c, f32 as Value64[]);
      expect(relativeError(mine, reference)).toBeLessThan(1e-6);
    });
  });
});

describe('gather', () => {
  it('refuses to train an embedding table and passes nothing to the ids', () => {
    const table = { data: normals(12, 1), shape: [4, 3] };
    const ids = { data: Int32Array.from([0, 3, 1]), shape: [3] };
    const output = { data: FORWARD_KERNELS.gather([table, ids], {}, [3, 3]), shape: [3, 3] };
    const grad = normals(9, 2);
    expect(() => VJPS.gather([table, ids], output, grad, {}, [true, false])).toThrow(BackwardError);
    expect(VJPS.gather([table, ids], output, grad, {}, [false, false])).toEqual([
      undefined,
      undefined,
    ]);
  });
});
