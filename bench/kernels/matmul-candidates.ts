/** The kernels every run times: the compiler's own for both profiles, and a naive one. */
import { compile } from '../../src/compiler/index.js';
import {
  ACTIVATION_FUNCTIONS,
  bindings,
  ENTRY_BUILTINS,
  FLAT_GROUP,
} from '../../src/compiler/codegen/wgsl.js';
import type { Program, SizeExpr } from '../../src/runtime/program.js';
import type { MatmulCase } from './matmul-cases.js';

/** A kernel to time: WGSL with bindings (params, x, w [k, n], bias, out) and its workgroups. */
export interface Candidate {
  readonly label: string;
  readonly kernel: string;
  readonly wgsl: string;
  readonly groups: SizeExpr;
}

/** One BERT-base layer without adapters: its FFN matmuls are the kernels under test. */
const FFN_SPEC = `model bench-ffn {
  hidden 768
  heads 12
  ffn 3072
  layers 1
  activation gelu
  norm post
  eps 1e-12
  attention bidirectional
}
`;

const compiledFfn = new Map<string, Program>();

function ffnProgram(target: 'software' | 'gpu'): Program {
  const known = compiledFfn.get(target);
  if (known) return known;
  const result = compile(FFN_SPEC, { fileName: 'bench-ffn.adapt', target });
  if (!result.program?.gpu) {
    const messages = result.diagnostics.map((d) => d.message).join('; ');
    throw new Error(`the FFN spec did not compile: ${messages}`);
  }
  compiledFfn.set(target, result.program);
  return result.program;
}

/** The compiler's own kernel for the case's matmul, as `compile` emits it for `target`. */
export function compilerKernel(target: 'software' | 'gpu', c: MatmulCase): Candidate {
  const plan = ffnProgram(target).gpu!;
  const name = `${target === 'gpu' ? 'linear_tiled' : 'linear_vec4'}_${c.k}x${c.n}_bias${c.gelu ? '_gelu' : ''}`;
  const index = plan.kernels.findIndex((k) => k.name === name || k.name.startsWith(`${name}#`));
  const kernel = plan.kernels[index];
  if (!kernel) {
    const names = plan.kernels.map((k) => k.name).join(', ');
    throw new Error(`no kernel ${name} in the compiled FFN spec; it has ${names}`);
  }
  if (kernel.storageBindings !== 4)
    throw new Error(`${kernel.name} has ${kernel.storageBindings} storage bindings, expected 4`);
  const use = plan.dispatches.find((d) => d.kernel === index)!;
  return {
    label: target === 'gpu' ? 'compiler gpu (tiled 16x16)' : 'compiler software (4x vec4)',
    kernel: kernel.name,
    wgsl: kernel.wgsl,
    groups: use.groups,
  };
}

/** One invocation per output element, a plain loop over k, no blocking. */
export function naiveKernel(c: MatmulCase): Candidate {
  const wgsl = `${bindings(['x', 'w', 'bias', 'out'])}
${c.gelu ? ACTIVATION_FUNCTIONS.gelu : ''}
const K = ${c.k}u;
const N = ${c.n}u;

@compute @workgroup_size(64)
fn main(${ENTRY_BUILTINS}) {
  ${FLAT_GROUP}
  let index = group * 64u + lid;
  if (index >= params.rows * N) { return; }
  let row = index / N;
  let col = index % N;
  var sum = 0.0;
  for (var k = 0u; k < K; k = k + 1u) { sum = sum + x[row * K + k] * w[k * N + col]; }
  var v = sum + bias[col];
  ${c.gelu ? 'v = act_gelu(v);' : ''}
  out[index] = v;
}
`;
  return {
    label: 'naive (1 output / invocation)',
    kernel: `naive_${c.k}x${c.n}`,
    wgsl,
    groups: { perToken: c.n, perSequence: 0, fixed: 0, divide: 64 },
  };
}
