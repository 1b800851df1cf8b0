import { slotSignature, type Model } from '../../compiler/index.js';
import { CliError } from '../io.js';
import { Catalog } from './catalog.js';
import type { ServeContext } from './context.js';
import { compileFor, loadGraphEngine, loadSlotEngine, newTarget, servedHead } from './engines.js';
import { SPARE_SLOTS } from './options.js';
import { slotMember } from './slot-member.js';

/** A graph name the spec does not use, for an adapter that runs in a program of its own. */
function ownGraphName(model: Model, adapter: string): string {
  let name = `serve_${adapter}`;
  while (model.graphs.has(name)) name = `_${name}`;
  return name;
}

/**
 * Every program the server runs, loaded: one slot program per adapter shape (its adapters in
 * slots 0, 1, …, SPARE_SLOTS free unless --slots), a program of its own for an adapter that
 * cannot take a slot, and one per graph that is not simply an adapter.
 */
export async function loadCatalog(context: ServeContext): Promise<Catalog> {
  const { model, io } = context;
  const catalog = new Catalog();
  const shapes = new Map<string, string[]>();
  const alone: { name: string; reason: string }[] = [];
  for (const name of model.adapters.keys()) {
    const signature = slotSignature(model, name);
    if ('reason' in signature) alone.push({ name, reason: signature.reason });
    else shapes.set(signature.signature, [...(shapes.get(signature.signature) ?? []), name]);
  }
  for (const names of shapes.values()) {
    const count = context.options.slots ?? names.length + SPARE_SLOTS;
    if (count < names.length)
      throw new CliError(
        `adapt: error: --slots ${count} is fewer than the ${names.length} adapters of one shape (${names.join(', ')})`,
      );
    const compiled = compileFor(context, context.source, {
      slots: { adapter: names[0]!, count },
    });
    const { program } = compiled;
    const members = names.map((name) => slotMember(context, model, name));
    const engine = await loadSlotEngine(context, compiled, members);
    catalog.engines.push(engine);
    names.forEach((name, slot) => {
      const head = servedHead(program, model, name);
      catalog.adapters.set(
        name,
        newTarget({ name, kind: 'adapter', engine, slot, ...head, source: context.file }),
      );
    });
  }
  for (const { name, reason } of alone) {
    io.stderr(`note: adapter '${name}' takes no slot (${reason}); it runs in batches of its own\n`);
    const graph = ownGraphName(model, name);
    const engine = await loadGraphEngine(
      context,
      `${context.source}\ngraph ${graph} = ${name}\n`,
      graph,
      `adapter ${name}`,
    );
    catalog.engines.push(engine);
    const head = servedHead(engine.program, model);
    catalog.adapters.set(
      name,
      newTarget({ name, kind: 'adapter', engine, ...head, source: context.file }),
    );
  }
  for (const [name, graph] of model.graphs) {
    const { composition } = graph;
    if (composition.kind === 'batch' || composition.kind === 'parallel') {
      catalog.unserved.push({
        name,
        reason:
          composition.kind === 'batch'
            ? 'batch(...) picks an adapter per sequence, which the server does for every request: send each text with its adapter'
            : 'parallel(...) answers once per branch; request each branch as its own adapter or graph',
      });
      continue;
    }
    const adapter =
      composition.kind === 'adapter' ? catalog.adapters.get(composition.name) : undefined;
    if (adapter) {
      catalog.graphs.set(name, adapter);
      continue;
    }
    const engine = await loadGraphEngine(context, context.source, name, `graph ${name}`);
    catalog.engines.push(engine);
    catalog.graphs.set(
      name,
      newTarget({
        name,
        kind: 'graph',
        engine,
        ...servedHead(engine.program, model),
        source: context.file,
      }),
    );
  }
  return catalog;
}
