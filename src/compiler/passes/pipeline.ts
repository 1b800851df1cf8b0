import type { IrGraph } from '../ir/types.js';
import { fuseAddLayerNorm } from './add-layer-norm.js';
import { fuseBottlenecks } from './bottleneck.js';
import { fuseEmbeddings } from './embeddings.js';
import { fuseEpilogues } from './epilogue.js';
import { foldQueryProjections } from './fold-query.js';
import { rewriteFusionAlgebra } from './fusion-algebra.js';
import { fuseFusionMix } from './fusion-mix.js';

export interface Pass {
  readonly name: string;
  readonly run: (graph: IrGraph) => IrGraph;
}

/**
 * The optimizing passes, in order. Each is a pure function Graph → Graph, so the IR can be
 * dumped after any of them, and the verifier and the CPU reference can check each one.
 * The order matters: the embeddings' sum must be fused before add-layer-norm could claim its
 * last add and LayerNorm; the residual add before a LayerNorm must go to add_layer_norm before
 * epilogue fusion could claim it; bottleneck fusion matches the linears epilogue fusion made.
 * The query fold matches the W_Kᵀ q linear the fusion algebra emits, on a query projection
 * still unfused (add(matmul(x, W_Q), b_Q)), so it runs right after it, before epilogue fusion
 * would turn that projection into a linear of its own.
 */
export const PASSES: readonly Pass[] = [
  { name: 'embeddings', run: fuseEmbeddings },
  { name: 'fusion-algebra', run: rewriteFusionAlgebra },
  { name: 'fold-query', run: foldQueryProjections },
  { name: 'add-layer-norm', run: fuseAddLayerNorm },
  { name: 'epilogue', run: fuseEpilogues },
  { name: 'bottleneck', run: fuseBottlenecks },
  { name: 'fusion-mix', run: fuseFusionMix },
];

/** Runs the passes; `after` sees the graph after each one (for dumps and verification). */
export function optimize(graph: IrGraph, after?: (pass: string, graph: IrGraph) => void): IrGraph {
  let current = graph;
  for (const pass of PASSES) {
    current = pass.run(current);
    after?.(pass.name, current);
  }
  return current;
}
