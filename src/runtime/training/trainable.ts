import { AdaptRuntimeError } from '../errors.js';
import type { Program } from '../program.js';

/** What one run trains: one adapter (stage 1) or one fusion (stage 2), each with its head. */
export type TrainTarget = { readonly adapter: string } | { readonly fusion: string };

export interface TrainableSet {
  /** The trained weights, in the program's order. */
  readonly names: readonly string[];
  /** Of those, the head's. */
  readonly head: readonly string[];
}

const ADAPTER = /\.adapters\.([^.]+)\./;
const FUSION = /\.adapter_fusion_layer\.([^.]+)\./;
/** An AdapterHub head's Linear layers. */
const HUB_HEAD = /^heads\.[^.]+\./;
/**
 * A checkpoint's own head outside its encoder: the classifier and DistilBERT's pre-classifier.
 * The pooler is part of the encoder (`bert.pooler`), so the adapters library's
 * `freeze_model` freezes it with the base model.
 */
const CHECKPOINT_HEAD = /^(classifier|pre_classifier)\./;

/** The adapters and fusions a program has weights of. */
export function trainableModules(program: Program): { adapters: string[]; fusions: string[] } {
  const adapters = new Set<string>();
  const fusions = new Set<string>();
  for (const { name } of program.weights) {
    const adapter = ADAPTER.exec(name)?.[1];
    if (adapter) adapters.add(adapter);
    const fusion = FUSION.exec(name)?.[1];
    if (fusion) fusions.add(fusion);
  }
  return { adapters: [...adapters], fusions: [...fusions] };
}

/**
 * The weights a run trains, as the adapters library's `train_adapter` (the adapter's own
 * modules: projections, LayerNorms, scaling, gate) or `train_adapter_fusion` (the fusion's
 * query, key and value; its adapters frozen) leave them trainable, with the head the program
 * ends in: an AdapterHub head's layers, or the checkpoint's classifier. The base model, its
 * pooler and embeddings, and every other adapter stay frozen (`freeze_model`).
 */
export function trainableWeights(program: Program, target: TrainTarget): TrainableSet {
  const isAdapter = 'adapter' in target;
  const name = isAdapter ? target.adapter : target.fusion;
  const pattern = isAdapter ? ADAPTER : FUSION;
  const own = program.weights.filter((w) => pattern.exec(w.name)?.[1] === name).map((w) => w.name);
  if (own.length === 0) {
    const modules = trainableModules(program);
    const present = isAdapter ? modules.adapters : modules.fusions;
    const kind = isAdapter ? 'adapter' : 'fusion';
    throw new AdaptRuntimeError(
      `graph '${program.graph}' has no ${kind} '${name}'; ${present.length > 0 ? `its ${kind}s are ${present.map((n) => `'${n}'`).join(', ')}` : `it has no ${kind}s`}`,
    );
  }
  const hub = program.weights.filter((w) => HUB_HEAD.test(w.name)).map((w) => w.name);
  const head =
    hub.length > 0
      ? hub
      : program.weights.filter((w) => CHECKPOINT_HEAD.test(w.name)).map((w) => w.name);
  const trained = new Set([...own, ...head]);
  return { names: program.weights.map((w) => w.name).filter((n) => trained.has(n)), head };
}
