import type { DiagnosticBag } from '../diagnostics.js';
import type { Composition } from '../model.js';
import { didYouMean } from '../suggest.js';
import { underflows } from './properties.js';
import type { CallExpression, Expression } from '../syntax/ast.js';

const COMBINATORS = ['stack', 'average', 'batch', 'parallel'] as const;
type Combinator = (typeof COMBINATORS)[number];

/** What graph resolution needs from the rest of the file. */
export interface GraphContext {
  /** Every declared adapter and fusion name, valid or not; `valid` says whether it checked. */
  readonly adapters: ReadonlyMap<string, { valid: boolean }>;
  readonly fusions: ReadonlyMap<string, { valid: boolean }>;
  readonly graphNames: ReadonlySet<string>;
  /** The model's name, if the file declares one. */
  readonly modelName?: string;
}

/**
 * Resolves a graph expression to a Composition. Returns undefined after reporting if any part
 * is invalid (also when it names an adapter or fusion that itself failed to check).
 */
export function resolveGraph(
  expression: Expression,
  context: GraphContext,
  bag: DiagnosticBag,
): Composition | undefined {
  return resolve(expression, context, bag, true);
}

function resolve(
  expression: Expression,
  context: GraphContext,
  bag: DiagnosticBag,
  outermost: boolean,
): Composition | undefined {
  if (expression.kind === 'reference')
    return resolveName(expression.name.text, expression, context, bag);
  const callee = expression.callee.text;
  if (!(COMBINATORS as readonly string[]).includes(callee)) {
    const isComponent = context.adapters.has(callee) || context.fusions.has(callee);
    bag.report(
      'E0402',
      expression.callee.span,
      isComponent
        ? `'${callee}' is ${context.adapters.has(callee) ? 'an adapter' : 'a fusion'}, not a combinator`
        : `unknown combinator '${callee}'`,
      didYouMean(callee, COMBINATORS) ??
        'combinators are stack(...), average(...), batch(...) and parallel(...)',
    );
    for (const arg of expression.args) resolve(arg.expression, context, bag, false);
    return undefined;
  }
  const combinator = callee as Combinator;
  if (expression.args.length === 0) {
    bag.report(
      'E0407',
      expression.span,
      `${combinator}() needs at least one argument`,
      `write ${combinator}(a, b)`,
    );
    return undefined;
  }
  if (combinator === 'batch' && !outermost) {
    bag.report(
      'E0406',
      expression.callee.span,
      'batch(...) chooses a branch per sequence and must be the whole graph expression',
      'move batch(...) to the outside: batch(stack(a, b), c)',
    );
    return undefined;
  }
  if (combinator === 'parallel' && !outermost) {
    bag.report(
      'E0406',
      expression.callee.span,
      'parallel(...) runs every branch on the whole batch and must be the whole graph expression',
      'make parallel(...) the whole expression: graph g = parallel(a, b), its branches adapters or fusions',
    );
    return undefined;
  }
  if (combinator === 'average') return resolveAverage(expression, context, bag);
  let ok = true;
  for (const arg of expression.args) {
    if (arg.weight) {
      bag.report(
        'E0404',
        arg.weight.span,
        `weights are for average(...) only, not ${combinator}(...)`,
      );
      ok = false;
    }
  }
  const items = expression.args.map((arg) => resolve(arg.expression, context, bag, false));
  if (!ok || items.some((item) => item === undefined)) return undefined;
  const resolved = items as Composition[];
  if (combinator === 'stack') return { kind: 'stack', items: resolved };
  if (combinator === 'batch') return { kind: 'batch', branches: resolved };
  return parallelOf(expression, resolved, bag);
}

/**
 * parallel(e1, ..., en): each branch's outputs are named after it (`logits.NAME`), so each must
 * be an adapter or a fusion, and each at most once.
 */
function parallelOf(
  expression: CallExpression,
  branches: readonly Composition[],
  bag: DiagnosticBag,
): Composition | undefined {
  const labels: string[] = [];
  const named: (Composition & { readonly kind: 'adapter' | 'fusion' })[] = [];
  for (const [i, branch] of branches.entries()) {
    const arg = expression.args[i]!;
    if (branch.kind !== 'adapter' && branch.kind !== 'fusion') {
      bag.report(
        'E0405',
        arg.span,
        'parallel(...) takes adapters and fusions: its outputs are named after them',
        'declare a fusion, or run stack(...) as a graph of its own',
      );
      return undefined;
    }
    if (labels.includes(branch.name)) {
      bag.report('E0206', arg.span, `'${branch.name}' is listed twice`, 'remove the repetition');
      return undefined;
    }
    labels.push(branch.name);
    named.push(branch);
  }
  return { kind: 'parallel', branches: named };
}

function resolveName(
  name: string,
  expression: Expression,
  context: GraphContext,
  bag: DiagnosticBag,
): Composition | undefined {
  const adapter = context.adapters.get(name);
  if (adapter) return adapter.valid ? { kind: 'adapter', name } : undefined;
  const fusion = context.fusions.get(name);
  if (fusion) return fusion.valid ? { kind: 'fusion', name } : undefined;
  if (context.graphNames.has(name)) {
    bag.report(
      'E0408',
      expression.span,
      `'${name}' is a graph; a graph expression names adapters and fusions`,
      `repeat the expression of graph '${name}' here`,
    );
    return undefined;
  }
  if (name === context.modelName) {
    bag.report(
      'E0401',
      expression.span,
      `'${name}' is the model; a graph expression names adapters and fusions`,
      'the model runs under every graph: name the adapters or fusions to add to it',
    );
    return undefined;
  }
  const isCombinator = (COMBINATORS as readonly string[]).includes(name);
  const noComponents = context.adapters.size + context.fusions.size === 0;
  bag.report(
    'E0401',
    expression.span,
    isCombinator ? `${name} needs arguments` : `'${name}' names no adapter or fusion`,
    isCombinator
      ? `write ${name}(a, b)`
      : noComponents
        ? 'declare an adapter first: adapter NAME { ... }'
        : () => didYouMean(name, [...context.adapters.keys(), ...context.fusions.keys()]),
  );
  return undefined;
}

function resolveAverage(
  expression: CallExpression,
  context: GraphContext,
  bag: DiagnosticBag,
): Composition | undefined {
  let ok = true;
  const names: string[] = [];
  for (const arg of expression.args) {
    const inner = arg.expression;
    if (inner.kind !== 'reference' || !context.adapters.has(inner.name.text)) {
      if (inner.kind === 'reference' && !context.fusions.has(inner.name.text)) {
        resolveName(inner.name.text, inner, context, bag);
      } else {
        bag.report(
          'E0405',
          inner.span,
          'average(...) combines adapters only',
          'name adapters here; stack(...) or a fusion combines other things',
        );
      }
      ok = false;
      continue;
    }
    if (!context.adapters.get(inner.name.text)!.valid) ok = false;
    names.push(inner.name.text);
  }
  const weighted = expression.args.filter((arg) => arg.weight);
  if (weighted.length > 0 && weighted.length < expression.args.length) {
    const missing = expression.args.find((arg) => !arg.weight)!;
    bag.report(
      'E0404',
      missing.span,
      'give every argument of average(...) a weight, or none',
      'write average(a: 0.7, b: 0.3), or average(a, b) for equal weights',
    );
    return undefined;
  }
  const weights = expression.args.map((arg) => arg.weight?.value ?? 1);
  for (const arg of weighted) {
    const weight = arg.weight!;
    if (weight.malformed) {
      ok = false;
    } else if (!Number.isFinite(weight.value)) {
      bag.report('E0403', weight.span, `average weight ${weight.text} is not a finite number`);
      ok = false;
    } else if (underflows(weight)) {
      bag.report(
        'E0403',
        weight.span,
        `average weight ${weight.text} is too small to be held: it would be read as 0`,
        'write 0 if 0 is meant',
      );
      ok = false;
    } else if (weight.value < 0) {
      bag.report('E0403', weight.span, `average weight ${weight.text} is negative`);
      ok = false;
    }
  }
  const total = weights.reduce((sum, w) => sum + w, 0);
  if (ok && !(total > 0 && Number.isFinite(total))) {
    bag.report(
      'E0403',
      expression.span,
      total > 0 ? 'average weights are too large to add up' : 'average weights sum to 0',
      'give at least one adapter a positive weight',
    );
    ok = false;
  }
  if (!ok) return undefined;
  return {
    kind: 'average',
    items: names.map((name, i) => ({ name, weight: weights[i]! / total })),
  };
}

/** Every adapter and fusion a composition uses, the members of its fusions not included. */
export function namesUsed(composition: Composition): string[] {
  switch (composition.kind) {
    case 'adapter':
    case 'fusion':
      return [composition.name];
    case 'stack':
      return composition.items.flatMap(namesUsed);
    case 'average':
      return composition.items.map((item) => item.name);
    case 'batch':
    case 'parallel':
      return composition.branches.flatMap(namesUsed);
  }
}
