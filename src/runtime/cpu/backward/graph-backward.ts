import type { PreparedInputs } from '../../inputs.js';
import type { NodeOf } from '../../ops/node.js';
import type { Program, ProgramNode } from '../../program.js';
import { resolveShape } from '../../tensor.js';
import {
  BackwardError,
  requireLoweredProgram,
  type DifferentiableOp,
} from './differentiable-ops.js';
import { dropped, siteFactors, type AppliedDropout, type StepDropout } from './dropout.js';
import { attentionOutput, FORWARD_KERNELS, type ForwardKernel } from './forward-kernels.js';
import type { Value64 } from './values.js';
import { attentionVjp, VJPS, type Vjp } from './vjp.js';

/** Weights by name: f32 as loaded, or f64 (a finite-difference probe, an f64 master copy). */
export type Weights64 = ReadonlyMap<string, Float32Array | Float64Array>;

/** Every node's value of one forward pass in f64, by node id, and the program's outputs. */
export interface Forward64 {
  readonly values: readonly Value64[];
  readonly outputs: Readonly<Record<string, Value64>>;
  /** The dropout this pass applied, which the backward pass from it applies too. */
  readonly dropout?: AppliedDropout;
}

/** The gradient dLoss/dOutput of one of the program's outputs. */
export interface OutputGradient {
  readonly output: string;
  readonly gradient: ArrayLike<number>;
}

export interface BackwardResult {
  readonly forward: Forward64;
  /** dLoss/dWeight of each trained weight, by name, in the weight's layout. */
  readonly gradients: ReadonlyMap<string, Float64Array>;
}

const widen = (data: Float32Array | Float64Array | Int32Array): Float64Array | Int32Array =>
  data instanceof Int32Array ? data : Float64Array.from(data);

/**
 * The program's forward pass in f64 (forward-kernels.ts), keeping every value. The same inputs
 * and weights as `interpret` takes; its outputs equal the interpreter's to f32 rounding. With
 * `dropout`, each site's values are dropped as training's forward pass drops them; every value
 * kept is the one its consumers read.
 */
export function forward64(
  program: Program,
  weights: Weights64,
  inputs: PreparedInputs,
  dropout?: StepDropout,
): Forward64 {
  requireLoweredProgram(program);
  const sites = new Map((dropout?.sites ?? []).map((s) => [`${s.kind}:${s.node}`, s]));
  const applied = { outputs: new Map(), attention: new Map(), undropped: new Map() } satisfies {
    [K in keyof AppliedDropout]: Map<number, Float64Array>;
  };
  const values: Value64[] = new Array(program.nodes.length);
  for (const node of program.nodes) {
    const shape = resolveShape(node.shape, inputs.batch, inputs.seq);
    if (node.op === 'input' || node.op === 'weight') {
      const source = node.op === 'input' ? inputs.values : weights;
      const data = source.get(node.attrs.name);
      if (!data) throw new BackwardError(`no value for ${node.op} '${node.attrs.name}'`);
      values[node.id] = { data: widen(data), shape };
      continue;
    }
    const kernel = FORWARD_KERNELS[node.op as DifferentiableOp] as ForwardKernel<DifferentiableOp>;
    const args = node.inputs.map((id) => values[id]!);
    const attentionSite = sites.get(`attention:${node.id}`);
    let data: Float64Array | Int32Array;
    if (attentionSite && node.op === 'attention') {
      const [batch, seq] = shape as [number, number];
      const factors = siteFactors(dropout!, attentionSite, batch * node.attrs.heads * seq * seq);
      applied.attention.set(node.id, factors);
      data = attentionOutput(args, node.attrs, factors);
    } else data = kernel(args, node.attrs as never, shape);
    const outputSite = sites.get(`output:${node.id}`);
    if (outputSite && data instanceof Float64Array) {
      const factors = siteFactors(dropout!, outputSite, data.length);
      applied.outputs.set(node.id, factors);
      applied.undropped.set(node.id, data);
      data = dropped(data, factors);
    }
    values[node.id] = { data, shape };
  }
  const outputs: Record<string, Value64> = {};
  for (const output of program.outputs) outputs[output.name] = values[output.node]!;
  return { values, outputs, ...(dropout ? { dropout: applied } : {}) };
}

/**
 * Which nodes a trained weight reaches, forward from those weights: only these carry a gradient,
 * and only their inputs that are marked get one. i32 values never do.
 */
export function nodesNeedingGradient(program: Program, trained: ReadonlySet<string>): boolean[] {
  const needs = new Array<boolean>(program.nodes.length).fill(false);
  for (const node of program.nodes) {
    if (node.dtype === 'i32') continue;
    if (node.op === 'weight') needs[node.id] = trained.has(node.attrs.name);
    else if (node.op !== 'input') needs[node.id] = node.inputs.some((id) => needs[id]);
  }
  return needs;
}

/**
 * Reverse-mode gradients of the trained weights for one output's seed gradient, in f64. The
 * program must be compiled with { fuse: false }; every trained name must be one of its weights.
 */
export function backward(
  program: Program,
  weights: Weights64,
  inputs: PreparedInputs,
  seed: OutputGradient,
  trained: Iterable<string>,
): BackwardResult {
  const forward = forward64(program, weights, inputs);
  return { forward, gradients: backwardFrom(program, forward, seed, trained) };
}

/**
 * The same gradients from a forward pass already run, for a seed computed from its outputs (the
 * loss's gradient with respect to the logits): one forward pass per training step.
 */
export function backwardFrom(
  program: Program,
  forward: Forward64,
  seed: OutputGradient,
  trained: Iterable<string>,
): ReadonlyMap<string, Float64Array> {
  const trainedSet = new Set(trained);
  const known = new Set(program.weights.map((w) => w.name));
  for (const name of trainedSet) {
    if (!known.has(name)) throw new BackwardError(`no weight '${name}' in this program to train`);
  }
  const output = program.outputs.find((o) => o.name === seed.output);
  if (!output) {
    const names = program.outputs.map((o) => `'${o.name}'`).join(', ');
    throw new BackwardError(`no output '${seed.output}'; the outputs are ${names}`);
  }
  const outValue = forward.values[output.node]!;
  if (seed.gradient.length !== outValue.data.length) {
    throw new BackwardError(
      `the gradient of '${seed.output}' has ${seed.gradient.length} elements, the output ${outValue.data.length}`,
    );
  }
  const needs = nodesNeedingGradient(program, trainedSet);
  const grads: (Float64Array | undefined)[] = new Array(program.nodes.length);
  if (needs[output.node]) grads[output.node] = Float64Array.from(seed.gradient);
  const gradients = new Map<string, Float64Array>();
  for (let id = output.node; id >= 0; id--) {
    const node = program.nodes[id]!;
    const grad = grads[id];
    if (!grad) continue;
    grads[id] = undefined;
    if (node.op === 'weight') {
      accumulate(gradients, node.attrs.name, grad);
      continue;
    }
    propagate(node, forward, grad, needs, grads);
  }
  for (const name of trainedSet) {
    if (!gradients.has(name)) gradients.set(name, new Float64Array(sizeOf(program, name)));
  }
  return gradients;
}

/**
 * One node's VJP into its inputs' gradients. At a dropout site the gradient of the dropped
 * output is the factors times the one its consumers sent, and the VJP sees the value before
 * dropout; attention with dropped probabilities takes their factors.
 */
function propagate(
  node: ProgramNode,
  forward: Forward64,
  outputGrad: Float64Array,
  needs: readonly boolean[],
  grads: (Float64Array | undefined)[],
): void {
  const { values } = forward;
  const typed = node as NodeOf<DifferentiableOp>;
  const wanted = node.inputs.map((id) => needs[id]!);
  const inputs = node.inputs.map((id) => values[id]!);
  const outputFactors = forward.dropout?.outputs.get(node.id);
  const grad = outputFactors ? dropped(outputGrad, outputFactors) : outputGrad;
  const undropped = forward.dropout?.undropped.get(node.id);
  const output = undropped ? { data: undropped, shape: values[node.id]!.shape } : values[node.id]!;
  const attentionFactors = forward.dropout?.attention.get(node.id);
  const inputGrads =
    attentionFactors && node.op === 'attention'
      ? attentionVjp(inputs, grad, node.attrs, wanted, attentionFactors)
      : (VJPS[typed.op] as Vjp<DifferentiableOp>)(
          inputs,
          output,
          grad,
          typed.attrs as never,
          wanted,
        );
  node.inputs.forEach((id, i) => {
    const inputGrad = inputGrads[i];
    if (!wanted[i] || !inputGrad) return;
    const sum = grads[id];
    if (!sum) grads[id] = inputGrad;
    else for (let j = 0; j < sum.length; j++) sum[j]! += inputGrad[j]!;
  });
}

function accumulate(gradients: Map<string, Float64Array>, name: string, grad: Float64Array): void {
  const sum = gradients.get(name);
  if (!sum) gradients.set(name, grad);
  else for (let j = 0; j < sum.length; j++) sum[j]! += grad[j]!;
}

function sizeOf(program: Program, name: string): number {
  return program.weights.find((w) => w.name === name)!.shape.reduce((n, d) => n * d, 1);
}
