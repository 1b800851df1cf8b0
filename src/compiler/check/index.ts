import type { DiagnosticBag } from '../diagnostics.js';
import type {
  AdapterSpec,
  Composition,
  FusionSpec,
  GraphSpec,
  Model,
  PredictionHeadSpec,
} from '../model.js';
import { spanCover, type Span } from '../source.js';
import { didYouMean } from '../suggest.js';
import type {
  AssignDeclaration,
  BlockDeclaration,
  Declaration,
  SourceAst,
  SourceClause,
} from '../syntax/ast.js';
import { checkAdapter } from './adapters.js';
import { readAdapterHead, checkSavedAdapter } from './adapterhub/saved-adapter.js';
import { readSavedFusion } from './adapterhub/saved-fusion.js';
import { checkHubFit } from './adapterhub/fit.js';
import { checkInlineHead } from './adapterhub/inline-head.js';
import { checkBaseModel } from './base-model.js';
import { checkFusion } from './fusions.js';
import { namesUsed, resolveGraph } from './graphs.js';
import { checkWeightMemory, type CheckedComponent } from './weight-memory.js';
import { collectProperties } from './properties.js';
import { checkSourceClause } from './adapterhub/saved-adapter.js';
import type { ReadFile } from './checkpoint/read-config.js';

export type { ReadFile } from './checkpoint/read-config.js';

/** What the checker needs from its host. */
export interface CheckHost {
  /** Reads `DIR/config.json` for `model NAME from "DIR"`; without it such a model is an error. */
  readonly readFile?: ReadFile;
}

const DECLARATION_KINDS = ['model', 'adapter', 'fusion', 'head', 'graph'] as const;
type DeclarationKind = (typeof DECLARATION_KINDS)[number];

/** Sorts declarations by kind, reporting unknown kinds and the wrong form (block vs `=`). */
function classify(ast: SourceAst, bag: DiagnosticBag) {
  const blocks: Record<Exclude<DeclarationKind, 'graph'>, BlockDeclaration[]> = {
    model: [],
    adapter: [],
    fusion: [],
    head: [],
  };
  const graphs: AssignDeclaration[] = [];
  let misformedModel = false;
  for (const declaration of ast.declarations) {
    const kind = declaration.keyword.text;
    if (!(DECLARATION_KINDS as readonly string[]).includes(kind)) {
      bag.report(
        'E0101',
        declaration.keyword.span,
        `unknown declaration '${kind}'`,
        didYouMean(kind, DECLARATION_KINDS) ??
          'declarations are model, adapter, fusion, head and graph',
      );
      continue;
    }
    if (declaration.kind === 'block' && declaration.from && kind === 'graph') {
      sourcedGraph(declaration, declaration.from, bag);
    } else if (kind === 'graph') {
      if (declaration.kind === 'assign') graphs.push(declaration);
      else wrongForm(declaration, bag);
    } else if (declaration.kind === 'block') {
      blocks[kind as Exclude<DeclarationKind, 'graph'>].push(declaration);
    } else {
      wrongForm(declaration, bag);
      if (kind === 'model') misformedModel = true;
    }
  }
  return { ...blocks, graphs, misformedModel };
}

function wrongForm(declaration: Declaration, bag: DiagnosticBag): void {
  const { keyword, name } = declaration;
  bag.report(
    'E0111',
    spanOfHead(declaration),
    declaration.kind === 'block'
      ? `a graph is written 'graph ${name.text} = expression', not with a block`
      : `${keyword.text} '${name.text}' is declared with a block, not '='`,
    declaration.kind === 'block'
      ? `for example: graph ${name.text} = stack(a, b)`
      : `for example: ${keyword.text} ${name.text} { ... }`,
  );
}

function sourcedGraph(declaration: Declaration, from: SourceClause, bag: DiagnosticBag): void {
  const { name } = declaration;
  bag.report(
    'E0111',
    spanCover(spanOfHead(declaration), from.span),
    `a graph is not read from a directory`,
    `for example: graph ${name.text} = stack(a, b)`,
  );
}

function spanOfHead(declaration: Declaration): Span {
  return { start: declaration.keyword.span.start, end: declaration.name.span.end };
}

/** Reports the second and later declarations of each name within one namespace. */
function reportDuplicates(declarations: readonly Declaration[], bag: DiagnosticBag): void {
  const first = new Map<string, Declaration>();
  for (const declaration of declarations) {
    const name = declaration.name.text;
    const earlier = first.get(name);
    if (!earlier) {
      first.set(name, declaration);
      continue;
    }
    bag.report(
      'E0102',
      declaration.name.span,
      `'${name}' is already declared as ${earlier.keyword.text === 'adapter' ? 'an' : 'a'} ${earlier.keyword.text}`,
      'give it another name',
    );
  }
}

function firstByName<T extends Declaration>(declarations: readonly T[]): T[] {
  const seen = new Set<string>();
  return declarations.filter((d) => !seen.has(d.name.text) && seen.add(d.name.text));
}

/**
 * Checks a parsed file and builds the Model. Reports every independent problem; returns
 * undefined if any error was found.
 */
export function check(ast: SourceAst, bag: DiagnosticBag, host: CheckHost = {}): Model | undefined {
  const errorsBefore = bag.errorCount;
  const kinds = classify(ast, bag);

  const [modelBlock, ...extraModels] = kinds.model;
  for (const extra of extraModels) {
    bag.report(
      'E0110',
      extra.keyword.span,
      `a file describes one model; '${modelBlock!.name.text}' is already declared`,
    );
  }
  if (!modelBlock && !kinds.misformedModel) {
    bag.report(
      'E0110',
      { start: 0, end: 0 },
      'no model declared',
      'add a block like: model bert-base { hidden 768 heads 12 ffn 3072 layers 12 }',
    );
  }
  const baseFacts = modelBlock
    ? checkBaseModel(modelBlock, bag, host.readFile)
    : { base: undefined };
  const modelFacts = {
    ...baseFacts,
    ...(baseFacts.layers !== undefined
      ? { allLayers: Array.from({ length: baseFacts.layers }, (_, i) => i) }
      : {}),
  };

  reportDuplicates(
    [...kinds.adapter, ...kinds.fusion].sort((a, b) => a.span.start - b.span.start),
    bag,
  );
  reportDuplicates(kinds.graphs, bag);
  const components = firstByName(
    [...kinds.adapter, ...kinds.fusion].sort((a, b) => a.span.start - b.span.start),
  );
  const adapterBlocks = components.filter((b) => b.keyword.text === 'adapter');
  const adapterNames = new Set(adapterBlocks.map((b) => b.name.text));
  const fusionBlocks = components.filter((b) => b.keyword.text === 'fusion');

  const adapters = new Map<string, AdapterSpec>();
  const heads = new Map<string, PredictionHeadSpec>();
  const addHead = (head: PredictionHeadSpec, at: Span) => {
    const earlier = heads.get(head.name);
    if (earlier) {
      bag.report(
        'E0102',
        at,
        `head '${head.name}' is already declared (${earlier.source ? `read from ${JSON.stringify(earlier.source.dir)}` : 'inline'})`,
        'a directory that holds head_config.json beside adapter_config.json declares its head; give the other head another name',
      );
    } else heads.set(head.name, head);
  };
  const checked: CheckedComponent[] = [];
  for (const block of adapterBlocks) {
    let adapter: AdapterSpec | undefined;
    if (block.from) {
      const saved = checkSavedAdapter(block, block.from, modelFacts, host.readFile, bag);
      adapter = saved?.adapter;
      if (saved?.head) addHead(saved.head, block.name.span);
    } else adapter = checkAdapter(block, modelFacts, bag);
    if (!adapter) continue;
    adapters.set(adapter.name, adapter);
    checked.push({ kind: 'adapter', spec: adapter, name: block.name.span });
  }
  for (const block of kinds.head) {
    if (!block.from) {
      const head = checkInlineHead(block, bag);
      if (head) addHead(head, block.name.span);
      continue;
    }
    if (modelFacts.hidden === undefined) continue;
    collectProperties(block, [], bag);
    if (!checkSourceClause(block, block.from, bag)) continue;
    const head = readAdapterHead(block, block.from, modelFacts.hidden, host.readFile, bag, {
      optional: false,
    });
    if (head) addHead(head, block.name.span);
  }
  const fusionNames = new Set(fusionBlocks.map((b) => b.name.text));
  const fusions = new Map<string, FusionSpec>();
  for (const block of fusionBlocks) {
    const saved = block.from
      ? readSavedFusion(block, block.from, modelFacts.hidden, host.readFile, bag)
      : undefined;
    if (block.from && !saved) continue;
    const fusion = checkFusion(
      block,
      { layerCount: modelFacts.layers, adapters, adapterNames, fusionNames },
      bag,
      saved,
    );
    if (!fusion) continue;
    fusions.set(fusion.name, fusion);
    checked.push({ kind: 'fusion', spec: fusion, name: block.name.span });
  }
  if (modelFacts.base) {
    checkWeightMemory(
      modelFacts.base,
      checked.sort((a, b) => a.name.start - b.name.start),
      bag,
    );
  }

  const graphBlocks = firstByName(kinds.graphs);
  const context = {
    adapters: new Map(
      adapterBlocks.map((b) => [b.name.text, { valid: adapters.has(b.name.text) }]),
    ),
    fusions: new Map(fusionBlocks.map((b) => [b.name.text, { valid: fusions.has(b.name.text) }])),
    graphNames: new Set(graphBlocks.map((g) => g.name.text)),
    ...(modelBlock ? { modelName: modelBlock.name.text } : {}),
  };
  const graphs = new Map<string, GraphSpec>();
  for (const declaration of graphBlocks) {
    const composition = resolveGraph(declaration.expression, context, bag);
    if (composition) {
      graphs.set(declaration.name.text, {
        name: declaration.name.text,
        composition,
        span: declaration.span,
      });
    }
  }
  if (!context.graphNames.has('default')) {
    graphs.set('default', {
      name: 'default',
      composition: defaultComposition([...adapterBlocks, ...fusionBlocks], fusions, adapters),
    });
  } else if (graphs.size === graphBlocks.length) {
    reportUnused([...adapterBlocks, ...fusionBlocks], graphs, fusions, bag);
  }

  if (modelFacts.base) checkHubFit(modelFacts.base, adapters, fusions, heads, graphs, bag);
  if (bag.errorCount > errorsBefore || !modelFacts.base) return undefined;
  return { fileName: ast.fileName, base: modelFacts.base, adapters, fusions, heads, graphs };
}

/** Without `graph default`: every fusion and every adapter in no fusion, stacked in file order. */
function defaultComposition(
  blocks: readonly BlockDeclaration[],
  fusions: ReadonlyMap<string, FusionSpec>,
  adapters: ReadonlyMap<string, AdapterSpec>,
): Composition {
  const fused = new Set([...fusions.values()].flatMap((f) => f.adapters));
  const items: Composition[] = [...blocks]
    .sort((a, b) => a.span.start - b.span.start)
    .flatMap((block): Composition[] => {
      const name = block.name.text;
      if (fusions.has(name)) return [{ kind: 'fusion', name }];
      if (adapters.has(name) && !fused.has(name)) return [{ kind: 'adapter', name }];
      return [];
    });
  return { kind: 'stack', items };
}

function reportUnused(
  blocks: readonly BlockDeclaration[],
  graphs: ReadonlyMap<string, GraphSpec>,
  fusions: ReadonlyMap<string, FusionSpec>,
  bag: DiagnosticBag,
): void {
  const used = new Set<string>();
  for (const graph of graphs.values()) {
    for (const name of namesUsed(graph.composition)) {
      used.add(name);
      for (const member of fusions.get(name)?.adapters ?? []) used.add(member);
    }
  }
  for (const block of blocks) {
    if (used.has(block.name.text)) continue;
    bag.report(
      'W0409',
      block.name.span,
      `${block.keyword.text} '${block.name.text}' is used by no graph`,
      'name it in a graph expression, or remove it',
    );
  }
}
