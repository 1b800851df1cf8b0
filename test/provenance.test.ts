import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { compile } from '../src/compiler/index.js';
import { printGraph } from '../src/compiler/ir/print.js';
import type { IrGraph } from '../src/compiler/ir/types.js';
import { formatProvenance, sameProvenance, type Provenance } from '../src/runtime/ops/node.js';
import type { Program } from '../src/runtime/program.js';
import { repoRoot } from './helpers/cli.js';

const SPEC = `model tiny { hidden 8 heads 2 ffn 16 layers 2 }
adapter a { bottleneck 4 at ffn layers 0 }
adapter b { bottleneck 2 at ffn layers 0 }
adapter p { bottleneck 2 parallel attn layers 1 }
fusion f { adapters a, b at ffn }
graph default = stack(f, p)
graph routed = batch(a, p)
`;

function lowered(graph: string): IrGraph {
  const { ir, diagnostics } = compile(SPEC, { graph });
  if (!ir) throw new Error(JSON.stringify(diagnostics));
  return ir;
}

/** Each scope once, in the order the nodes first show it. */
function scopesInOrder(graph: IrGraph): Provenance[] {
  const scopes: Provenance[] = [];
  for (const { scope } of graph.nodes) {
    if (scope && !scopes.some((seen) => sameProvenance(seen, scope))) scopes.push(scope);
  }
  return scopes;
}

describe('provenance', () => {
  it('is what lowering records for each part of each site', () => {
    const graph = lowered('default');
    expect(scopesInOrder(graph)).toStrictEqual([
      { layer: 0, site: 'attn', kind: 'base' },
      { layer: 0, site: 'attn', kind: 'residual' },
      { layer: 0, site: 'ffn', kind: 'base' },
      { layer: 0, site: 'ffn', kind: 'adapter', name: 'a' },
      { layer: 0, site: 'ffn', kind: 'adapter', name: 'b' },
      { layer: 0, site: 'ffn', kind: 'fusion', name: 'f' },
      { layer: 0, site: 'ffn', kind: 'residual' },
      { layer: 1, site: 'attn', kind: 'base' },
      { layer: 1, site: 'attn', kind: 'parallel', name: 'p' },
      { layer: 1, site: 'attn', kind: 'residual' },
      { layer: 1, site: 'ffn', kind: 'base' },
      { layer: 1, site: 'ffn', kind: 'residual' },
    ]);
    const inputs = graph.nodes.filter((node) => node.op === 'input');
    expect(inputs.map((node) => node.scope)).toEqual([undefined, undefined]);
  });

  it('names no adapter for the select of a batch', () => {
    const selects = lowered('routed').nodes.filter((node) => node.op === 'select');
    expect(selects.map((node) => node.scope)).toStrictEqual([
      { layer: 0, site: 'ffn', kind: 'batch' },
      { layer: 1, site: 'attn', kind: 'batch' },
    ]);
  });

  it('prints as layer/site/kind, with the name after a colon', () => {
    expect(formatProvenance({ layer: 3, site: 'ffn', kind: 'adapter', name: 'sentiment' })).toBe(
      'L3/ffn/adapter:sentiment',
    );
    expect(formatProvenance({ layer: 0, site: 'attn', kind: 'residual' })).toBe('L0/attn/residual');
  });

  it('is told apart by its printed form: two scopes print alike exactly when they are the same', () => {
    const scopes = [...scopesInOrder(lowered('default')), ...scopesInOrder(lowered('routed'))];
    for (const a of scopes) {
      for (const b of scopes) {
        expect(formatProvenance(a) === formatProvenance(b)).toBe(sameProvenance(a, b));
      }
    }
  });

  it('heads each run of nodes from one scope in the printed IR', () => {
    const graph = lowered('default');
    const comments = printGraph(graph)
      .split('\n')
      .filter((line) => line.startsWith('# L'));
    const runs: string[] = [];
    let previous: Provenance | undefined;
    for (const node of graph.nodes) {
      if (node.op === 'weight') continue;
      if (node.scope && !sameProvenance(node.scope, previous)) {
        runs.push(`# ${formatProvenance(node.scope)}`);
      }
      previous = node.scope;
    }
    expect(comments).toEqual(runs);
    expect(comments).toContain('# L1/attn/parallel:p');
  });
});

/** The label a dispatch is shown with, from the node and part it records. */
function expectedLabel(program: Program, node: number, part: number, parts: number): string {
  const { op, scope } = program.nodes[node]!;
  const index = parts > 1 ? `[${part}]` : '';
  return `%${node} ${op}${index}${scope ? ` (${formatProvenance(scope)})` : ''}`;
}

function expectDispatchesAgreeWithLabels(program: Program): void {
  const dispatches = program.gpu!.dispatches;
  const partsOf = new Map<number, number[]>();
  for (const { node, part } of dispatches) partsOf.set(node, [...(partsOf.get(node) ?? []), part]);
  for (const [node, parts] of partsOf) {
    expect(parts, `parts of node ${node}`).toEqual(parts.map((_, i) => i));
  }
  for (const { node, part, label } of dispatches) {
    expect(label).toBe(expectedLabel(program, node, part, partsOf.get(node)!.length));
  }
}

describe('GPU dispatches', () => {
  const examples = readdirSync(join(repoRoot, 'examples')).filter((f) => f.endsWith('.adapt'));

  it.each(examples)('of %s name the node and part their labels show', (file) => {
    const source = readFileSync(join(repoRoot, 'examples', file), 'utf8');
    const { program } = compile(source, { fileName: file });
    expectDispatchesAgreeWithLabels(program!);
  });

  it('split over column windows count their parts from 0 per node', () => {
    // W1 (32 in, 96 out) takes 12 KiB: over a 4 KiB binding it is split into column windows.
    const wide = `model m { hidden 32 heads 4 ffn 96 layers 1 }\nadapter a { bottleneck 8 at ffn }\n`;
    const split = compile(wide, { maxBindingBytes: 4096 }).program!;
    const parts = split.gpu!.dispatches.filter((dispatch) => dispatch.part > 0);
    expect(parts.length).toBeGreaterThan(0);
    expectDispatchesAgreeWithLabels(split);
  });
});
