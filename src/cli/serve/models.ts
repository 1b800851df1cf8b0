import { ortProvider } from '../../runtime/onnx/ort.js';
import type { Runtime } from '../../runtime/runtime.js';
import type { Catalog, Target } from './catalog.js';
import type { ServeContext } from './context.js';

export interface AdapterDescription {
  readonly name: string;
  /** The program it runs in: `slots(TEMPLATE)` or `adapter NAME`. */
  readonly program: string;
  readonly slot?: number;
  readonly head?: { readonly layout: string; readonly labels: readonly string[] };
  readonly source: string;
}

export function describeTarget(target: Target): AdapterDescription {
  return {
    name: target.name,
    program: target.engine.name,
    ...(target.slot === undefined ? {} : { slot: target.slot }),
    ...(target.head ? { head: { layout: target.head.layout, labels: target.head.labels } } : {}),
    source: target.source,
  };
}

/** How the runtime runs, for people: `webgpu on ADAPTER`, `onnx on PROVIDER` or `cpu`. */
export async function describeBackend(runtime: Runtime): Promise<string> {
  const adapter = runtime.adapter;
  if (runtime.backend === 'webgpu' && adapter)
    return `webgpu on ${adapter.description || adapter.architecture || adapter.vendor}`;
  if (runtime.backend === 'onnx') return `onnx on ${(await ortProvider()) ?? 'ONNX Runtime'}`;
  return runtime.backend;
}

/** `GET /v1/models`: the base, what requests may name, and the slots left. */
export function describeModels(context: ServeContext, catalog: Catalog, backend: string) {
  const { model } = context;
  return {
    base: {
      name: model.base.name,
      family: catalog.engines[0]?.program.model.text?.family,
      hidden: model.base.hidden,
      layers: model.base.layers,
      checkpoint: model.base.checkpoint?.dir,
    },
    backend,
    batching: context.options.batching,
    adapters: [...catalog.adapters.values()].map(describeTarget),
    heads: [...model.heads.keys()],
    graphs: [
      ...[...catalog.graphs].map(([name, target]) => ({
        name,
        ...(target.kind === 'adapter' ? { adapter: target.name } : { program: target.engine.name }),
      })),
      ...catalog.unserved.map((u) => ({ name: u.name, unserved: u.reason })),
    ],
    slots: catalog.engines.flatMap((engine) =>
      engine.slots
        ? [
            {
              program: engine.name,
              count: engine.slots.layout.count,
              free: engine.slots.free.length,
            },
          ]
        : [],
    ),
  };
}
