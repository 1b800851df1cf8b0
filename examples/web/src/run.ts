import type { Model, Program } from '../../../src/compiler/index.js';
import {
  bindWeights,
  GPU_TOLERANCE,
  initWeights,
  interpret,
  prepareInputs,
  randomInputs,
  relativeError,
  Runtime,
  type RunInputs,
} from '../../../src/runtime/index.js';
import { formatProvenance, type Provenance } from '../../../src/runtime/ops/node.js';
import { compileFor, element } from './panels.js';

/** What a run found; also left on `window.adaptcRun` for tests. */
export interface RunResult {
  readonly adapter: string;
  /** The first values of the output, for comparing with a reference run elsewhere. */
  readonly head: readonly number[];
  readonly profile: string;
  readonly dispatches: number;
  readonly loadMs: number;
  readonly runMs: number;
  readonly mean: number;
  readonly std: number;
  readonly relativeError: number;
}

let runtime: Promise<Runtime> | undefined;

/** Fusion attention weights α[b, t, i] of one covered site, from the CPU reference run. */
interface SiteAlphas {
  readonly scope: Provenance;
  readonly data: Float32Array | Int32Array;
  readonly shape: readonly number[];
}
/** Every covered site's α, by its scope as text (`L3/ffn/fusion:multitask`). */
export type Alphas = Map<string, SiteAlphas>;

/** The interpreter's observer that keeps each fusion site's α in `alphas`. */
export function keepFusionAlphas(alphas: Alphas): Parameters<typeof interpret>[3] {
  return (node, value) => {
    const { scope } = node;
    if (node.op === 'softmax' && scope?.kind === 'fusion') {
      alphas.set(formatProvenance(scope), { scope, data: value.data, shape: value.shape });
    }
  };
}

/** The WebGPU runtime, opened once for the page. */
export function webGpuRuntime(): Promise<Runtime> {
  runtime ??= Runtime.create({ backend: 'webgpu' });
  return runtime;
}

export function inputsFor(program: Program, seq: number): RunInputs {
  // The playground's specs read hidden states.
  return randomInputs(program, program.branches ?? 1, seq, 1) as RunInputs;
}

function statistics(data: Float32Array): { mean: number; std: number } {
  const mean = data.reduce((s, v) => s + v, 0) / data.length;
  return { mean, std: Math.sqrt(data.reduce((s, v) => s + (v - mean) ** 2, 0) / data.length) };
}

/**
 * Seeded weights; 'vivid' scales adapters (std 0.01 → 0.1) and fusion projections (0.02 → 0.1)
 * so that their effect, and the fusion's preferences, show.
 */
export function playgroundWeights(program: Program, mode: 'vivid' | 'init') {
  const weights = initWeights(program, 0);
  if (mode === 'vivid') {
    for (const [name, tensor] of weights) {
      const factor = vividFactor(name);
      if (factor !== 1) tensor.data.set(tensor.data.map((v) => v * factor));
    }
  }
  return weights;
}

/** What 'vivid' scales a seeded weight by: adapters 10, fusion projections 5, the rest 1. */
export function vividFactor(name: string): number {
  return isAdapterWeight(name) ? (name.includes('.adapters.') ? 10 : 5) : 1;
}

/** An adapter's or a fusion's weight (docs/design.md §3 names), not the base model's. */
export function isAdapterWeight(name: string): boolean {
  return name.includes('.adapters.') || name.includes('adapter_fusion_layer');
}

export async function runOnWebGpu(
  text: string,
  graph: string,
  seq: number,
  mode: 'vivid' | 'init',
  status: (message: string) => void,
): Promise<{ result: RunResult; alphas: Alphas }> {
  const rt = await webGpuRuntime();
  const adapter = rt.adapter!;
  const program = compileFor(text, graph, adapter.profile).program!;
  const reference = compileFor(text, graph, 'software', false).program!;
  status('initializing seeded weights…');
  await new Promise((resolve) => setTimeout(resolve, 0));
  const weights = playgroundWeights(reference, mode);
  const inputs = inputsFor(program, seq);

  status('uploading weights and building pipelines…');
  const loadStart = performance.now();
  const model = await rt.load(program, weights);
  const loadMs = performance.now() - loadStart;
  status('running on WebGPU…');
  const runStart = performance.now();
  const { hidden_states } = await model.run(inputs);
  const runMs = performance.now() - runStart;
  model.dispose();

  status('running the CPU reference…');
  await new Promise((resolve) => setTimeout(resolve, 0));
  const alphas: Alphas = new Map();
  const expected = interpret(
    reference,
    bindWeights(reference, weights).tensors,
    prepareInputs(reference, inputs),
    keepFusionAlphas(alphas),
  ).hidden_states!;
  const result: RunResult = {
    adapter: adapter.description || adapter.architecture || adapter.vendor || 'unknown adapter',
    head: [...hidden_states.data.slice(0, 64)],
    profile: adapter.profile,
    dispatches: program.gpu!.dispatches.length,
    loadMs,
    runMs,
    ...statistics(hidden_states.data),
    relativeError: relativeError(hidden_states.data, expected.data),
  };
  return { result, alphas };
}

export function renderRunResult(target: HTMLElement, result: RunResult): void {
  const ok = result.relativeError <= GPU_TOLERANCE;
  const list = element('dl');
  const rows: [string, string][] = [
    ['adapter', `${result.adapter} (${result.profile} kernels)`],
    ['dispatches', `${result.dispatches} per forward pass, one submit`],
    ['load', `${result.loadMs.toFixed(0)} ms (weights uploaded once, pipelines built)`],
    ['run', `${result.runMs.toFixed(1)} ms`],
    ['output', `mean ${result.mean.toFixed(6)}, std ${result.std.toFixed(6)}`],
    [
      'vs CPU reference',
      `relative error ${result.relativeError.toExponential(2)} ${ok ? '≤' : '>'} ${GPU_TOLERANCE}`,
    ],
  ];
  for (const [term, value] of rows) list.append(element('dt', term), element('dd', value));
  target.replaceChildren(list);
  target.dataset.state = 'done';
  target.dataset.error = String(result.relativeError);
}

/**
 * The rows of the heat map: for text, each text's real tokens (padding left out); for hidden
 * states, the positions of the first sequence.
 */
export interface HeatmapRows {
  /** Per text, its tokens: the first rows of its α, padding after them. */
  readonly tokens: readonly (readonly string[])[];
  readonly texts: readonly string[];
}

function heatmapTable(
  alpha: SiteAlphas,
  members: readonly string[],
  sequence: number,
  rows: readonly string[],
): HTMLTableElement {
  const [, seq, count] = alpha.shape as [number, number, number];
  const t = element('table', undefined, 'heatmap');
  const head = t.createTHead().insertRow();
  head.append(element('th', 'token'), ...members.map((m) => element('th', m)));
  const body = t.createTBody();
  rows.forEach((label, token) => {
    const row = body.insertRow();
    row.append(element('th', label));
    for (let i = 0; i < count; i++) {
      const value = alpha.data[(sequence * seq + token) * count + i]!;
      const cell = element('td', value.toFixed(2));
      cell.style.background = `rgba(47, 111, 223, ${value.toFixed(3)})`;
      cell.style.color = value > 0.55 ? 'white' : 'inherit';
      row.append(cell);
    }
  });
  return t;
}

/** The fusion attention weights per token and adapter, as the adapter chapter draws them. */
export function renderHeatmap(
  target: HTMLElement,
  alphas: Alphas,
  model: Model,
  text?: HeatmapRows,
): void {
  target.replaceChildren();
  if (alphas.size === 0) return;
  const select = element('select');
  select.className = 'heatmap-site';
  for (const key of alphas.keys()) select.append(new Option(key, key));
  const textSelect = element('select');
  textSelect.className = 'heatmap-text';
  text?.texts.forEach((input, b) =>
    textSelect.append(new Option(`text ${b + 1}: ${input}`, String(b))),
  );
  const holder = element('div');
  const draw = () => {
    const alpha = alphas.get(select.value)!;
    const { layer, site, name } = alpha.scope;
    const fusion = model.fusions.get(name!)!;
    const members = fusion.covers.find((c) => c.layer === layer && c.site === site)!.members;
    const sequence = text ? Number(textSelect.value) : 0;
    const rows = text
      ? text.tokens[sequence]!
      : Array.from({ length: alpha.shape[1]! }, (_, token) => String(token));
    holder.replaceChildren(heatmapTable(alpha, members, sequence, rows));
  };
  select.onchange = draw;
  textSelect.onchange = draw;
  target.append(
    element(
      'h3',
      text
        ? 'Fusion attention weights α (per token of the text, padding left out, and adapter)'
        : 'Fusion attention weights α (first sequence, per token and adapter)',
    ),
    select,
    ...(text ? [textSelect] : []),
    holder,
  );
  draw();
}
