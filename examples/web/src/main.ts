import { checkSource, type Model } from '../../../src/compiler/index.js';
import { createEditor, relint, replaceText, selectRange } from './editor.js';
import {
  compileFor,
  element,
  renderDiagnostics,
  renderGraph,
  renderParams,
  renderWgsl,
} from './panels.js';
import { renderHeatmap, renderRunResult, runOnWebGpu, type RunResult } from './run.js';
import { setUpLoaders } from './loaders.js';
import { savedWeightsFor } from './saved-weights.js';
import { checkpointFor, loadedExtraWeights, readSpecFile } from './spec-files.js';
import { renderTextResult } from './text-panels.js';
import { runTexts, type TextRunResult } from './text-run.js';
import { setUpTrainTab } from './train-panel.js';

declare global {
  interface Window {
    adaptcRun?: RunResult | TextRunResult | { error: string };
  }
}

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const exampleSelect = $<HTMLSelectElement>('example');
const graphSelect = $<HTMLSelectElement>('graph');
const runButton = $<HTMLButtonElement>('run');
const status = $<HTMLSpanElement>('status');
const textInput = $<HTMLLabelElement>('text-input');
const seqInput = $<HTMLInputElement>('seq');
let activeTab = 'diagnostics';
let text = '';

const examples = (await (await fetch('examples.json')).json()) as Record<string, string>;
for (const name of Object.keys(examples)) exampleSelect.append(new Option(name, name));
const initial = new URLSearchParams(location.search).get('example') ?? 'bert-base-fusion.adapt';
exampleSelect.value = examples[initial] !== undefined ? initial : Object.keys(examples)[0]!;

const editor = createEditor($('editor-pane'), examples[exampleSelect.value]!, (next) => {
  text = next;
  scheduleUpdate();
});
text = editor.state.doc.toString();

let timer: ReturnType<typeof setTimeout> | undefined;
function scheduleUpdate(): void {
  clearTimeout(timer);
  timer = setTimeout(() => void update(), 250);
}

const checkSpec = () => checkSource(text, 'playground.adapt', { readFile: readSpecFile });

/** Re-checks the spec and redraws the visible tab. */
async function update(): Promise<void> {
  const result = checkSpec();
  renderDiagnostics($('tab-diagnostics'), result, (from, to) => selectRange(editor, from, to));
  const model = result.model;
  const previous = graphSelect.value;
  graphSelect.replaceChildren(...[...(model?.graphs.keys() ?? [])].map((g) => new Option(g, g)));
  if (model?.graphs.has(previous)) graphSelect.value = previous;
  runButton.disabled = !model;
  const errors = result.diagnostics.filter((d) => d.severity === 'error').length;
  status.textContent = model ? 'spec checks clean' : `${errors} error${errors === 1 ? '' : 's'}`;
  // A spec read from a checkpoint takes text; the others take `--seq` random hidden states.
  const readsText = model?.base.checkpoint !== undefined;
  textInput.hidden = !readsText;
  seqInput.disabled = readsText;
  if (!model) return;
  const graph = graphSelect.value;
  if (activeTab === 'graph') await renderGraph($('tab-graph'), model, graph);
  if (activeTab === 'wgsl') {
    renderWgsl(
      $('kernel'),
      $('kernel-info'),
      $('kernel-code'),
      compileFor(text, graph, 'software').program!,
    );
  }
  if (activeTab === 'params') renderParams($('tab-params'), model, graph);
}

for (const tab of document.querySelectorAll<HTMLButtonElement>('nav button')) {
  tab.addEventListener('click', () => {
    activeTab = tab.dataset.tab!;
    for (const other of document.querySelectorAll<HTMLButtonElement>('nav button')) {
      other.setAttribute('aria-selected', String(other === tab));
    }
    for (const panel of document.querySelectorAll<HTMLElement>('.tab'))
      panel.hidden = panel.id !== `tab-${activeTab}`;
    void update();
  });
}

exampleSelect.addEventListener('change', () => replaceText(editor, examples[exampleSelect.value]!));
graphSelect.addEventListener('change', () => void update());

runButton.addEventListener('click', () => void run());

async function run(): Promise<void> {
  (document.querySelector('[data-tab="run"]') as HTMLButtonElement).click();
  const target = $('run-result');
  target.dataset.state = 'running';
  const model = checkSpec().model!;
  // Text runs fall back to the CPU reference; hidden-state runs are WebGPU demonstrations.
  if (!model.base.checkpoint && (!('gpu' in navigator) || !navigator.gpu)) {
    const message =
      'WebGPU is not available in this browser (navigator.gpu is missing). Use a browser with WebGPU enabled, such as a recent Chrome or Edge, served from localhost or https.';
    target.replaceChildren(element('p', message, 'notice'));
    target.dataset.state = 'unavailable';
    window.adaptcRun = { error: message };
    return;
  }
  runButton.disabled = true;
  try {
    if (model.base.checkpoint) {
      await runTextSpec(model, target);
      return;
    }
    const seq = Math.max(1, Math.min(512, Number($<HTMLInputElement>('seq').value) || 16));
    const mode = $<HTMLSelectElement>('weights').value as 'vivid' | 'init';
    const { result, alphas } = await runOnWebGpu(text, graphSelect.value, seq, mode, (m) => {
      status.textContent = m;
      target.textContent = m;
    });
    renderRunResult(target, result);
    renderHeatmap($('heatmap'), alphas, model);
    status.textContent = `ran in ${result.runMs.toFixed(1)} ms`;
    window.adaptcRun = result;
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    target.replaceChildren(element('p', `The run failed: ${message}`, 'notice'));
    target.dataset.state = 'failed';
    window.adaptcRun = { error: message };
  } finally {
    runButton.disabled = false;
  }
}

/** Texts through the checkpoint's tokenizer and the graph, then its predictions. */
async function runTextSpec(model: Model, target: HTMLElement): Promise<void> {
  const checkpoint = checkpointFor(model.base.checkpoint!.dir)!;
  const texts = $<HTMLTextAreaElement>('texts')
    .value.split('\n')
    .filter((line) => line.trim() !== '');
  if (texts.length === 0) throw new Error('no text to run: write one text per line');
  const mode = $<HTMLSelectElement>('weights').value as 'vivid' | 'init';
  const { result, alphas, tokens } = await runTexts(
    text,
    graphSelect.value,
    checkpoint,
    [...loadedExtraWeights(), ...savedWeightsFor(model, graphSelect.value)],
    texts,
    mode,
    (m) => {
      status.textContent = m;
      target.textContent = m;
    },
  );
  renderTextResult(target, result);
  renderHeatmap($('heatmap'), alphas, model, { tokens, texts });
  status.textContent = `ran in ${result.runMs.toFixed(1)} ms`;
  window.adaptcRun = result;
}

setUpTrainTab();

setUpLoaders(() => {
  relint(editor);
  void update();
});

await update();
document.body.dataset.ready = 'true';
