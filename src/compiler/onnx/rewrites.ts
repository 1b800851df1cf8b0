import type { IrGraph } from '../ir/types.js';
import { foldQueryProjections } from '../passes/fold-query.js';
import { rewriteFusionAlgebra } from '../passes/fusion-algebra.js';

/**
 * The graph-level rewrites that change the work, not just the kernels, and so pay off in ONNX
 * Runtime too: the fusion algebra (W_Kᵀ applied once to the query, one value projection after
 * the mix) and the query fold (W_Kᵀ·W_Q as one weight_product, a Transpose and MatMul of
 * initializers that ONNX Runtime folds into one constant when it creates the session). The
 * kernel-fusing passes are left out: ONNX Runtime fuses for itself, and their ops have no ONNX
 * form.
 */
export function rewriteForOnnx(ir: IrGraph): IrGraph {
  return foldQueryProjections(rewriteFusionAlgebra(ir));
}
