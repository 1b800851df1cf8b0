import type { Dim, Shape } from '../../../runtime/program.js';
import { dimExpr } from './common.js';

/**
 * WGSL that sets `v` to the sum, over the elements of a that element `i` of b was broadcast to
 * (b onto a from the right, b's dims a's or 1), of `term(at)`, `at` the index into a: the
 * gradient of a broadcast operand.
 */
export function broadcastSum(a: Shape, b: Shape, term: (at: string) => string): string {
  const padded: Dim[] = [...new Array<Dim>(a.length - b.length).fill(1), ...b];
  const kept = a.map((_, axis) => padded[axis] !== 1);
  const lines: string[] = [];
  if (kept.some(Boolean)) lines.push('var rest = i;');
  for (let axis = a.length - 1; axis >= 0; axis--) {
    if (!kept[axis]) continue;
    lines.push(`let c${axis} = rest % ${dimExpr(a[axis]!)}; rest = rest / ${dimExpr(a[axis]!)};`);
  }
  const reduced = a.flatMap((dim, axis) => (kept[axis] ? [] : [{ dim, axis }]));
  const coordinate = (axis: number) => (kept[axis] ? `c${axis}` : `e${axis}`);
  let at = coordinate(0);
  for (let axis = 1; axis < a.length; axis++)
    at = `(${at}) * ${dimExpr(a[axis]!)} + ${coordinate(axis)}`;
  if (reduced.length === 0) return [...lines, `let v = ${term(at)};`].join('\n  ');
  const count = reduced.map((r) => dimExpr(r.dim)).join(' * ');
  const split = [...reduced]
    .reverse()
    .map((r) => `let e${r.axis} = rr % ${dimExpr(r.dim)}; rr = rr / ${dimExpr(r.dim)};`);
  return [
    ...lines,
    'var v = 0.0;',
    `for (var r = 0u; r < ${count}; r = r + 1u) {`,
    '    var rr = r;',
    ...split.map((s) => `    ${s}`),
    `    let at = ${at};`,
    `    v = v + ${term('at')};`,
    '  }',
  ].join('\n  ');
}
