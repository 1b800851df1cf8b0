import type { ActivationName } from '../../runtime/ops/registry.js';
import { ONNX_TRANSLATIONS, type Translation, type TranslationContext } from './ops.js';

/**
 * An activation of a `linear` as the op of the same name translates it. The unary translations
 * read their first input and emit nodes; none reads the node's attributes, so the `linear`'s
 * context serves with the value in place of its inputs.
 */
function activate(
  ctx: TranslationContext<'linear'>,
  activation: ActivationName,
  x: string,
): string {
  const translation = ONNX_TRANSLATIONS[activation] as Translation;
  return translation({ ...ctx, inputs: [x] } as TranslationContext);
}

/**
 * The epilogue's steps in order, as the CPU kernel computes them: x · Wᵀ (x · W with
 * transposeWeight, the W_Kᵀ q of the fusion algebra), + b, the activation, · scale, + residual.
 * Inputs [x, W, b?, residual?].
 */
export const linear: Translation<'linear'> = (ctx) => {
  const { activation, scale, bias, residual, transposeWeight } = ctx.node.attrs;
  const [x, w] = ctx.inputs as [string, string];
  let out = transposeWeight ? ctx.emit('MatMul', [x, w]) : ctx.matmulTransposed(1);
  if (bias) out = ctx.emit('Add', [out, ctx.inputs[2]!]);
  if (activation !== 'none' && activation !== 'identity') out = activate(ctx, activation, out);
  if (scale !== 1) out = ctx.emit('Mul', [out, ctx.f32(scale)]);
  if (residual) out = ctx.emit('Add', [ctx.inputs[ctx.inputs.length - 1]!, out]);
  return out;
};
