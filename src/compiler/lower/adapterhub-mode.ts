import type { Composition, Model } from '../model.js';
import { namesUsed } from '../check/graphs.js';

/**
 * Whether a graph computes as the `adapters` library composes (docs/language.md §4.7): it uses
 * an AdapterHub adapter or fusion, directly or as a fusion's member.
 */
export function usesAdapterHub(
  model: Pick<Model, 'adapters' | 'fusions'>,
  composition: Composition,
): boolean {
  for (const name of namesUsed(composition)) {
    if (model.adapters.get(name)?.semantics === 'adapterhub') return true;
    const fusion = model.fusions.get(name);
    if (!fusion) continue;
    if (fusion.hub) return true;
    if (fusion.adapters.some((member) => model.adapters.get(member)?.semantics === 'adapterhub'))
      return true;
  }
  return false;
}
