import type { KernelSpec } from '../../../runtime/program.js';
import { ADAMW_HYPER } from '../../../runtime/webgpu/training/adamw-hyper.js';
import { bindings } from '../wgsl.js';
import { perElementEntry } from './common.js';

const at = (name: (typeof ADAMW_HYPER)[number]) => `hyper[${ADAMW_HYPER.indexOf(name)}]`;

const head = (n: number, names: string[]) => `${bindings(names)}
const N = ${n}u;

${perElementEntry('N')}`;

/** m ← β1·m + (1 − β1)·g and v ← β2·v + (1 − β2)·g², the moments [m, v] of n elements. */
export function adamwMomentsKernel(n: number): KernelSpec {
  return {
    name: `adamw_moments_${n}`,
    wgsl: `${head(n, ['hyper', 'grad', 'out'])}
  let g = grad[i];
  out[i] = ${at('beta1')} * out[i] + ${at('oneMinusBeta1')} * g;
  out[N + i] = ${at('beta2')} * out[N + i] + ${at('oneMinusBeta2')} * g * g;
}
`,
    storageBindings: 3,
  };
}

/** p ← p·(1 − lr·wd) − lr/(1 − β1ᵗ) · m / (√v / √(1 − β2ᵗ) + eps). */
export function adamwParamKernel(n: number): KernelSpec {
  return {
    name: `adamw_param_${n}`,
    wgsl: `${head(n, ['hyper', 'moments', 'out'])}
  let denom = sqrt(moments[N + i]) / ${at('correction2Sqrt')} + ${at('eps')};
  out[i] = out[i] * ${at('decay')} - ${at('stepSize')} * moments[i] / denom;
}
`,
    storageBindings: 3,
  };
}
