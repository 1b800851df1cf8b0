import type { DiagnosticBag } from '../diagnostics.js';
import type { AdapterSpec, BaseModel, FusionSpec } from '../model.js';
import type { Span } from '../source.js';
import { formatBytes, formatCount, MAX_WEIGHT_BYTES } from './limits.js';

/** Parameters of the base model (docs/language.md §4.6). */
export function baseParams(hidden: number, ffn: number, layers: number): number {
  const d = hidden;
  return layers * (4 * d * d + 4 * d + 2 * d * ffn + ffn + d + 4 * d);
}

function adapterParams(adapter: AdapterSpec, hidden: number): number {
  const sites = Object.keys(adapter.placements).length;
  const r = adapter.bottleneck;
  return sites * adapter.layers.length * (2 * r * hidden + r + hidden);
}

function fusionParams(fusion: FusionSpec, hidden: number): number {
  const perSite = (fusion.value === 'identity' ? 2 : 3) * (hidden * hidden + hidden);
  return fusion.covers.length * perSite;
}

/** An adapter or fusion that checked clean, with the span of its name. */
export type CheckedComponent =
  | { readonly kind: 'adapter'; readonly spec: AdapterSpec; readonly name: Span }
  | { readonly kind: 'fusion'; readonly spec: FusionSpec; readonly name: Span };

/** `708.4 billion parameters (2.6 TiB in f32)`. */
export function describeWeights(params: number): string {
  return `${formatCount(params)} parameters (${formatBytes(params * 4)} in f32)`;
}

/**
 * Reports the first adapter or fusion, in file order, at which the weights the file declares
 * (the base model's included) pass MAX_WEIGHT_BYTES. Returns whether they fit.
 */
export function checkWeightMemory(
  base: BaseModel,
  components: readonly CheckedComponent[],
  bag: DiagnosticBag,
): boolean {
  let total = baseParams(base.hidden, base.ffn, base.layers);
  for (const component of components) {
    total +=
      component.kind === 'adapter'
        ? adapterParams(component.spec, base.hidden)
        : fusionParams(component.spec, base.hidden);
    if (total * 4 > MAX_WEIGHT_BYTES) {
      bag.report(
        'E0113',
        component.name,
        `with ${component.kind} '${component.spec.name}' the file's weights come to ${describeWeights(total)}, more than the ${formatBytes(MAX_WEIGHT_BYTES)} limit`,
        'use fewer or smaller adapters, or fewer layers',
      );
      return false;
    }
  }
  return true;
}
