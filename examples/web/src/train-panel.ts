import type { TrainingBackend } from '../../../src/runtime/index.js';
import { element } from './panels.js';
import { drawCurve } from './train-curve.js';
import {
  classifySentence,
  prepareSession,
  sessionBackend,
  sessionFiles,
  trainSession,
  TRAIN_TAB_DEFAULTS,
  type LabelProbability,
  type PreparedSession,
} from './train-session.js';

/** What the train tab did; also left on `window.adaptcTrain` for tests. */
export interface TrainTabState {
  readonly state: 'training' | 'trained' | 'failed';
  readonly backend?: 'webgpu' | 'cpu';
  readonly labels?: readonly string[];
  readonly steps?: number;
  readonly losses: readonly number[];
  readonly stepsPerSecond?: number;
  readonly error?: string;
  /** The last sentence classified, likeliest label first. */
  readonly classified?: { readonly sentence: string; readonly scores: LabelProbability[] };
}

declare global {
  interface Window {
    adaptcTrain?: TrainTabState;
  }
}

const $ = <T extends Element>(id: string) => document.getElementById(id) as unknown as T;
const message = (error: unknown) => (error instanceof Error ? error.message : String(error));
const frame = () => new Promise((resolve) => setTimeout(resolve, 0));

/** The typed settings; one out of range is an error naming it. */
function typedSettings(): { steps: number; lr: number } {
  const steps = Number($<HTMLInputElement>('train-steps').value);
  if (!Number.isInteger(steps) || steps < 1 || steps > MAX_STEPS)
    throw new Error(`steps: expected a whole number from 1 to ${MAX_STEPS}`);
  const lr = Number($<HTMLInputElement>('train-lr').value);
  if (!Number.isFinite(lr) || lr <= 0 || lr > 1)
    throw new Error('learning rate: expected a number above 0 and at most 1 (such as 0.003)');
  return { steps, lr };
}

const MAX_STEPS = 1000;

/** Links to the files of the trained AdapterHub directory, each saved from the page. */
function renderDownloads(files: readonly { name: string; bytes: Uint8Array }[]): void {
  const list = $<HTMLElement>('train-files');
  for (const link of list.querySelectorAll('a')) URL.revokeObjectURL(link.href);
  list.replaceChildren();
  if (files.length === 0) return;
  list.append(element('span', 'the trained AdapterHub directory: '));
  for (const file of files) {
    const link = element('a', file.name);
    link.href = URL.createObjectURL(new Blob([file.bytes.slice()]));
    link.download = file.name;
    list.append(link, ' ');
  }
}

function show(state: 'idle' | 'training' | 'trained' | 'failed', text: string): void {
  const status = $<HTMLElement>('train-status');
  status.dataset.state = state;
  status.textContent = text;
}

function renderScores(scores: readonly LabelProbability[]): void {
  const table = $<HTMLTableElement>('train-scores');
  table.replaceChildren();
  const head = table.createTHead().insertRow();
  head.append(element('th', 'label'), element('th', 'probability'));
  const body = table.createTBody();
  for (const { label, probability } of scores) {
    const row = body.insertRow();
    row.dataset.label = label;
    const bar = element('td', probability.toFixed(4), 'score');
    bar.style.backgroundSize = `${(100 * probability).toFixed(1)}% 100%`;
    row.append(element('td', label, 'label'), bar);
  }
}

/** Wires the train tab: sentences in, the loss curve while it trains, then classification. */
export function setUpTrainTab(): void {
  let session: PreparedSession | undefined;
  let backend: TrainingBackend | undefined;
  let stopped = false;
  /** The last training run's state, which classification adds to. */
  let trainedState: TrainTabState = { state: 'trained', losses: [] };
  const publish = (next: TrainTabState) => {
    window.adaptcTrain = next;
  };
  const start = $<HTMLButtonElement>('train-start');
  const stop = $<HTMLButtonElement>('train-stop');
  const text = $<HTMLInputElement>('train-text');
  const classify = $<HTMLButtonElement>('train-classify');
  const curve = $<SVGSVGElement>('train-curve');
  const speed = $<HTMLElement>('train-speed');
  $<HTMLInputElement>('train-steps').value = String(TRAIN_TAB_DEFAULTS.steps);
  $<HTMLInputElement>('train-lr').value = String(TRAIN_TAB_DEFAULTS.lr);

  const run = async () => {
    backend?.dispose();
    backend = undefined;
    session = undefined;
    stopped = false;
    text.disabled = classify.disabled = true;
    $<HTMLTableElement>('train-scores').replaceChildren();
    speed.textContent = '';
    renderDownloads([]);
    const losses: number[] = [];
    publish({ state: 'training', losses });
    start.disabled = true;
    try {
      const { steps, lr } = typedSettings();
      drawCurve(curve, losses, steps);
      const prepared = prepareSession($<HTMLTextAreaElement>('train-sentences').value);
      $<HTMLElement>('train-spec').textContent = prepared.spec;
      show('training', 'building the training kernels…');
      await frame();
      const trainer = await sessionBackend(prepared);
      backend = trainer;
      const on = trainer.name === 'webgpu' ? 'WebGPU' : 'the CPU reference (no WebGPU here)';
      const { trained, total } = prepared.parameters;
      const share = `${trained.toLocaleString('en-US')} of ${total.toLocaleString('en-US')} parameters trained (${((100 * trained) / total).toFixed(1)}%)`;
      stop.disabled = false;
      const began = performance.now();
      let perSecond = 0;
      await trainSession(
        prepared,
        trainer,
        { steps, lr },
        async (step, loss) => {
          losses.push(loss);
          perSecond = (1000 * step) / (performance.now() - began);
          drawCurve(curve, losses, steps);
          show('training', `step ${step} / ${steps}, loss ${loss.toFixed(4)}, on ${on}`);
          speed.textContent = `${perSecond.toFixed(1)} steps/s · ${share}`;
          publish({ state: 'training', backend: trainer.name, losses: [...losses] });
          await frame();
        },
        () => stopped,
      );
      session = prepared;
      const first = losses[0]!;
      const last = losses.at(-1)!;
      show(
        'trained',
        `trained ${losses.length} steps on ${on}: loss ${first.toFixed(4)} → ${last.toFixed(4)}`,
      );
      trainedState = {
        state: 'trained',
        backend: trainer.name,
        labels: prepared.labels,
        steps: losses.length,
        losses: [...losses],
        stepsPerSecond: perSecond,
      };
      publish(trainedState);
      renderDownloads(await sessionFiles(prepared, trainer));
      text.disabled = classify.disabled = false;
    } catch (error) {
      show('failed', message(error));
      publish({ state: 'failed', losses: [...losses], error: message(error) });
    } finally {
      start.disabled = false;
      stop.disabled = true;
    }
  };

  const classifyTyped = async () => {
    if (!session || !backend) return;
    const sentence = text.value;
    classify.disabled = true;
    try {
      const scores = await classifySentence(session, backend, sentence);
      renderScores(scores);
      show('trained', `"${sentence}": ${scores[0]!.label}`);
      publish({ ...trainedState, classified: { sentence, scores } });
    } catch (error) {
      $<HTMLTableElement>('train-scores').replaceChildren();
      show('failed', message(error));
      publish({ ...trainedState, error: message(error) });
    } finally {
      classify.disabled = false;
    }
  };

  start.addEventListener('click', () => void run());
  stop.addEventListener('click', () => {
    stopped = true;
  });
  classify.addEventListener('click', () => void classifyTyped());
  text.addEventListener('keydown', (event) => {
    if (event.key === 'Enter') void classifyTyped();
  });
}
