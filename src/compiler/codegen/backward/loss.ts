import type { KernelSpec } from '../../../runtime/program.js';
import { REDUCE, ROW } from '../kernels/rows.js';
import { bindings, ENTRY_BUILTINS } from '../wgsl.js';

/** Where the labels are: one per sequence ([B, C] logits) or one per token ([B, T, C]). */
export type LabelRows = 'sequence' | 'token';

const IGNORED = -100;

/**
 * The shared start of both loss kernels, one workgroup in all: N_valid, the labels that are not
 * -100 (PyTorch's ignore_index), counted in f32 (exact to 2^24 rows).
 */
function start(classes: number, rows: LabelRows): string {
  return `${REDUCE}
const C = ${classes}u;

@compute @workgroup_size(${ROW})
fn main(${ENTRY_BUILTINS}) {
  let rows = ${rows === 'token' ? 'params.rows' : 'params.batch'};
  var mine = 0.0;
  for (var r = lid; r < rows; r = r + ${ROW}u) { if (labels[r] != ${IGNORED}) { mine = mine + 1.0; } }
  let valid = workgroup_sum(mine, lid);`;
}

/** The row's max logit and Σ exp(z − max), for row r. */
const ROW_TOTALS = `    let o = r * C;
    var top = logits[o];
    for (var c = 1u; c < C; c = c + 1u) { top = max(top, logits[o + c]); }
    var total = 0.0;
    for (var c = 0u; c < C; c = c + 1u) { total = total + exp(logits[o + c] - top); }`;

/**
 * dLoss/dlogits of the mean cross-entropy over the labels that are not -100:
 * (softmax − one-hot)/N_valid, zeros on ignored rows.
 */
export function crossEntropyGradientKernel(classes: number, rows: LabelRows): KernelSpec {
  return {
    name: `cross_entropy_grad_${classes}_${rows}`,
    wgsl: `${bindings(['logits', 'labels', 'out'], ['f32', 'i32', 'f32'])}
${start(classes, rows)}
  for (var r = lid; r < rows; r = r + ${ROW}u) {
    let label = labels[r];
    if (label == ${IGNORED}) {
      for (var c = 0u; c < C; c = c + 1u) { out[r * C + c] = 0.0; }
      continue;
    }
${ROW_TOTALS}
    for (var c = 0u; c < C; c = c + 1u) {
      let hot = select(0.0, 1.0, i32(c) == label);
      out[o + c] = (exp(logits[o + c] - top) / total - hot) / valid;
    }
  }
}
`,
    storageBindings: 3,
  };
}

/** The mean over the counted rows of log Σ exp(z − max) − (z_label − max), in out[0]. */
export function crossEntropyLossKernel(classes: number, rows: LabelRows): KernelSpec {
  return {
    name: `cross_entropy_loss_${classes}_${rows}`,
    wgsl: `${bindings(['logits', 'labels', 'out'], ['f32', 'i32', 'f32'])}
${start(classes, rows)}
  var sum = 0.0;
  for (var r = lid; r < rows; r = r + ${ROW}u) {
    let label = labels[r];
    if (label != ${IGNORED}) {
${ROW_TOTALS}
      sum = sum + log(total) - (logits[o + u32(label)] - top);
    }
  }
  let loss = workgroup_sum(sum, lid);
  if (lid == 0u) { out[0] = loss / valid; }
}
`,
    storageBindings: 3,
  };
}
