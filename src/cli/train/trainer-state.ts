import type { ScheduleKind } from '../../runtime/training/schedule.js';
import type { TrainTarget } from '../../runtime/training/trainable.js';
import { CliError } from '../io.js';

export const TRAINER_STATE_FILE = 'trainer_state.json';
export const OPTIMIZER_FILE = 'optimizer.safetensors';

/** What determines a run's course from a step on: with the weights and moments, a resume's all. */
export interface TrainerSettings {
  readonly lr: number;
  readonly weight_decay: number;
  readonly beta1: number;
  readonly beta2: number;
  readonly eps: number;
  readonly warmup_steps: number;
  readonly schedule: ScheduleKind;
  readonly total_steps: number;
  readonly batch: number;
  readonly seed: number;
  readonly shuffle: boolean;
  /** --dropout's probability; 0 without (a checkpoint written before --dropout reads as 0). */
  readonly dropout: number;
}

/** `trainer_state.json` of a checkpoint directory. */
export interface TrainerState {
  readonly format: 'adaptc-trainer-state';
  readonly version: 1;
  /** Optimizer steps done. */
  readonly step: number;
  /** Epochs done, a fraction mid-epoch. */
  readonly epoch: number;
  readonly target: TrainTarget;
  readonly graph: string;
  readonly backend: string;
  /** The data trained on: a resume must give the same file content. */
  readonly data: { readonly file: string; readonly rows: number; readonly sha256: string };
  /** Where the next batch starts in the stream of rows (docs/training.md): step · batch. */
  readonly position: number;
  readonly settings: TrainerSettings;
  readonly log_history: readonly { step: number; loss: number; lr: number }[];
}

export function trainerStateJson(state: TrainerState): Uint8Array {
  return new TextEncoder().encode(`${JSON.stringify(state, null, 2)}\n`);
}

const SETTING_TYPES: Readonly<Record<keyof TrainerSettings, 'number' | 'boolean' | 'string'>> = {
  lr: 'number',
  weight_decay: 'number',
  beta1: 'number',
  beta2: 'number',
  eps: 'number',
  warmup_steps: 'number',
  schedule: 'string',
  total_steps: 'number',
  batch: 'number',
  seed: 'number',
  shuffle: 'boolean',
  dropout: 'number',
};

/** Reads a trainer_state.json strictly enough to resume from it; a fault names the file and key. */
export function readTrainerState(text: string, file: string): TrainerState {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new CliError(
      `${file}: error: not JSON (${error instanceof Error ? error.message : String(error)})`,
    );
  }
  const bad = (key: string, what: string) => new CliError(`${file}: error: key '${key}': ${what}`);
  const record = (v: unknown, key: string) => {
    if (typeof v !== 'object' || v === null || Array.isArray(v))
      throw bad(key, 'must be an object');
    return v as Record<string, unknown>;
  };
  const state = record(value, '(top level)');
  if (state.format !== 'adaptc-trainer-state' || state.version !== 1)
    throw bad(
      'format',
      "must be 'adaptc-trainer-state', version 1: not a checkpoint adapt train wrote",
    );
  const count = (v: unknown, key: string) => {
    if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0)
      throw bad(key, 'must be an integer ≥ 0');
    return v;
  };
  count(state.step, 'step');
  const settings = record(state.settings, 'settings');
  settings.dropout ??= 0;
  for (const [key, type] of Object.entries(SETTING_TYPES))
    if (typeof settings[key] !== type) throw bad(`settings.${key}`, `must be a ${type}`);
  const target = record(state.target, 'target');
  if (typeof target.adapter !== 'string' && typeof target.fusion !== 'string')
    throw bad('target', 'must name an adapter or a fusion');
  const data = record(state.data, 'data');
  if (typeof data.sha256 !== 'string') throw bad('data.sha256', 'must be a string');
  count(data.rows, 'data.rows');
  if (!Array.isArray(state.log_history)) throw bad('log_history', 'must be an array');
  return state as unknown as TrainerState;
}
