import { graphHead } from '../graph-head.js';
import { bottleneckAt, SITES, type Model } from '../model.js';
import { usesAdapterHub } from './adapterhub-mode.js';

/**
 * What an adapter-slots program compiled for `adapter` computes, as text: equal signatures mean
 * one slot program serves both adapters exactly. It holds the semantics, the placement per site,
 * the layers and bottleneck per layer, the activation, every AdapterHub field that changes the
 * computation, and the head's structure and label count; not the scale (a slot weight), not the
 * initialization, not the labels' names. `reason` says why the adapter cannot take a slot.
 */
export function slotSignature(
  model: Model,
  adapter: string,
): { signature: string } | { reason: string } {
  const spec = model.adapters.get(adapter);
  if (!spec) {
    if (model.fusions.has(adapter))
      return { reason: `'${adapter}' is a fusion; a slot holds one adapter` };
    return { reason: `there is no adapter '${adapter}'` };
  }
  const f = spec.fields;
  const refuse = (why: string) => ({
    reason: `adapter '${adapter}' cannot take a slot: ${why}; a slot holds down and up projections with their biases only`,
  });
  if (f.lnBefore || f.lnAfter) return refuse('it has LayerNorms of its own (ln_before, ln_after)');
  if (f.scaling) return refuse(`its scaling is ${f.scaling}, a weight of its own`);
  if (f.gating) return refuse('it has a gate');
  const composition = { kind: 'adapter', name: adapter } as const;
  const head = graphHead(model, composition);
  if (head && !head.bias) return refuse("its head's last Linear has no bias");
  const hub = usesAdapterHub(model, composition);
  const described = {
    semantics: hub ? 'adapterhub' : 'article',
    placements: SITES.map((site) => spec.placements[site] ?? 'none'),
    layers: spec.layers.map((layer) => [layer, bottleneckAt(spec, layer)]),
    activation: spec.activation,
    ...(hub
      ? {
          fields: [
            f.originalLnBefore,
            f.originalLnAfter,
            f.residualBeforeLn,
            f.adapterResidualBeforeLn,
          ],
        }
      : {}),
    head: head
      ? [head.type, head.layers, head.activation, head.usePooler, head.labels.length]
      : null,
  };
  return { signature: JSON.stringify(described) };
}
