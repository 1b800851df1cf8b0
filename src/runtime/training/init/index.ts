import type { Model, PredictionHeadSpec } from '../../../compiler/model.js';
import { adapterInitWeights } from '../../adapterhub/save/adapter-config.js';
import { fusionConfig } from '../../adapterhub/save/fusion-config.js';
import { ArgumentError } from '../../errors.js';
import type { Program, WeightSpec } from '../../program.js';
import { initTensor } from '../../weights.js';
import { adapterTensor } from './adapter-init.js';
import { fusionTensor } from './fusion-init.js';
import { headTensor } from './head-init.js';

export { streamSeed } from './draws.js';

export type InitTarget = { readonly adapter: string } | { readonly fusion: string };

/**
 * The starting values of a trained adapter or fusion and of its head, by program weight name:
 * only those tensors (the frozen rest comes from the checkpoint and the saved directories).
 * - An AdapterHub adapter as `Adapter.__init__` initializes its `init_weights` (`bert`,
 *   `mam_adapter`, `houlsby`; adapter-init.ts), an AdapterHub fusion as `BertFusion.__init__`
 *   (fusion-init.ts), a prediction head as `model._init_weights` (head-init.ts).
 * - An adapter or fusion with the article's semantics as `adapt run` seeds it (`initTensor`: the
 *   program's init per weight, N(0, 0.01²) adapters, N(0, 0.02²) fusions, zero biases, a zero up
 *   projection with `init zero_up`), so training starts where `adapt run --seed` runs.
 * Every tensor draws from a stream of its own name and the seed (`streamSeed`): a normal one
 * from the ziggurat of `fillWeightNormal`, a uniform one from mulberry32, a truncated normal by
 * rejection from Box-Muller. The head is the one of the target's name (for a fusion, else the
 * one of its last member, which a graph of it ends in), where it is declared inline and the
 * program has it.
 */
export function initialTrainedWeights(
  model: Model,
  program: Program,
  target: InitTarget,
  seed: number,
): Map<string, Float32Array> {
  const out = new Map<string, Float32Array>();
  const pick = (marker: string, make: (spec: WeightSpec) => Float32Array | undefined) => {
    for (const spec of program.weights) {
      if (!spec.name.includes(marker)) continue;
      out.set(spec.name, make(spec) ?? initTensor(spec, seed));
    }
  };
  let head: PredictionHeadSpec | undefined;
  if ('adapter' in target) {
    const adapter = model.adapters.get(target.adapter);
    if (!adapter) throw new ArgumentError(`no adapter '${target.adapter}' in ${model.fileName}`);
    const initWeights = adapterInitWeights(adapter);
    pick(`.adapters.${adapter.name}.`, (spec) =>
      adapter.semantics === 'article'
        ? undefined
        : adapterTensor(spec, initWeights, model.base.hidden, seed),
    );
    head = model.heads.get(adapter.name);
  } else {
    const fusion = model.fusions.get(target.fusion);
    if (!fusion) throw new ArgumentError(`no fusion '${target.fusion}' in ${model.fileName}`);
    const valueInitialized = fusion.hub
      ? fusionConfig(fusion).get('value_initialized') === true
      : false;
    pick(`.adapter_fusion_layer.${fusion.name}.`, (spec) =>
      fusion.hub ? fusionTensor(spec, valueInitialized, seed) : undefined,
    );
    head =
      model.heads.get(fusion.name) ?? model.heads.get(fusion.adapters[fusion.adapters.length - 1]!);
  }
  // A head read from a directory starts from its saved weights.
  if (head && !head.source) {
    for (const spec of program.weights)
      if (spec.name.startsWith(`heads.${head.name}.`)) out.set(spec.name, headTensor(spec, seed));
  }
  if (out.size === 0)
    throw new ArgumentError(
      `${'adapter' in target ? `adapter '${target.adapter}'` : `fusion '${target.fusion}'`} has no weights in graph '${program.graph}'`,
    );
  return out;
}
