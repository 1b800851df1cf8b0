import { statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { OptimizerTensorState } from '../../runtime/training/backend.js';
import type { TrainTarget } from '../../runtime/training/trainable.js';
import { MAX_SPEC_BYTES, readInputFile } from '../input-file.js';
import { CliError } from '../io.js';
import { decodeUtf8 } from '../utf8.js';
import { readTensorFile } from '../weights-files.js';
import { TRAINED_WEIGHTS_FILE } from './directory.js';
import { readOptimizerFile } from './optimizer-file.js';
import {
  OPTIMIZER_FILE,
  readTrainerState,
  TRAINER_STATE_FILE,
  type TrainerSettings,
  type TrainerState,
} from './trainer-state.js';

export interface Resumed {
  readonly state: TrainerState;
  readonly settings: TrainerSettings;
  readonly optimizer: ReadonlyMap<string, OptimizerTensorState>;
  readonly weights: ReadonlyMap<string, Float32Array>;
}

/** Which command-line option sets each setting, for messages and for the given/defaulted test. */
const OPTION_OF: Readonly<Record<keyof TrainerSettings, { attribute: string; flag: string }>> = {
  lr: { attribute: 'lr', flag: '--lr' },
  weight_decay: { attribute: 'weightDecay', flag: '--weight-decay' },
  beta1: { attribute: '', flag: '' },
  beta2: { attribute: '', flag: '' },
  eps: { attribute: '', flag: '' },
  warmup_steps: { attribute: 'warmupSteps', flag: '--warmup-steps' },
  schedule: { attribute: 'schedule', flag: '--schedule' },
  total_steps: { attribute: '', flag: '--steps' },
  batch: { attribute: 'batch', flag: '--batch' },
  seed: { attribute: 'seed', flag: '--seed' },
  shuffle: { attribute: 'shuffle', flag: '--no-shuffle' },
  dropout: { attribute: 'dropout', flag: '--dropout' },
};

/**
 * Reads a checkpoint directory for --resume: its trainer state, AdamW's moments and the trained
 * tensors. The run continues with the checkpoint's settings; an option given on the command line
 * must agree with them, except the total steps, which a constant schedule may extend.
 */
export function readResume(
  cwd: string,
  dir: string,
  expected: {
    readonly target: TrainTarget;
    readonly graph: string;
    readonly dataSha256: string;
    readonly data: string;
    readonly trained: readonly string[];
    /** The command line's settings for a batch size (absent: the one given). */
    readonly settingsFor: (batch?: number) => TrainerSettings;
    readonly given: ReadonlySet<string>;
  },
): Resumed {
  requireCheckpointDirectory(cwd, dir);
  const stateFile = join(dir, TRAINER_STATE_FILE);
  const state = readTrainerState(
    decodeUtf8(
      readInputFile(cwd, { path: stateFile, what: 'a trainer state', maxBytes: MAX_SPEC_BYTES }),
      stateFile,
    ),
    stateFile,
  );
  const differs = (what: string, theirs: string, ours: string) =>
    new CliError(
      `${stateFile}: error: the checkpoint trained ${what}${theirs}, this run ${ours}; resume the same run`,
    );
  const theirTarget =
    'adapter' in state.target
      ? `adapter '${state.target.adapter}'`
      : `fusion '${state.target.fusion}'`;
  const ourTarget =
    'adapter' in expected.target
      ? `adapter '${expected.target.adapter}'`
      : `fusion '${expected.target.fusion}'`;
  if (theirTarget !== ourTarget) throw differs('', theirTarget, ourTarget);
  if (state.graph !== expected.graph)
    throw differs('graph ', `'${state.graph}'`, `'${expected.graph}'`);
  if (state.data.sha256 !== expected.dataSha256)
    throw new CliError(
      `${stateFile}: error: --data ${expected.data} is not the data the checkpoint trained on (${state.data.file}, ${state.data.rows} rows): its content differs`,
    );
  const ours = expected.settingsFor(expected.given.has('batch') ? undefined : state.settings.batch);
  const settings = reconcile(state.settings, ours, expected.given, stateFile);
  const optimizerPath = join(dir, OPTIMIZER_FILE);
  const optimizer = readOptimizerFile(
    readTensorFile(cwd, optimizerPath),
    expected.trained,
    state.step,
    optimizerPath,
  );
  const weightsPath = join(dir, TRAINED_WEIGHTS_FILE);
  const tensors = readTensorFile(cwd, weightsPath);
  const weights = new Map<string, Float32Array>();
  for (const name of expected.trained) {
    const tensor = tensors.get(name);
    if (!tensor || !(tensor.data instanceof Float32Array))
      throw new CliError(`${weightsPath}: error: no F32 tensor '${name}', which this run trains`);
    weights.set(name, tensor.data);
  }
  return { state, settings, optimizer, weights };
}

function reconcile(
  saved: TrainerSettings,
  ours: TrainerSettings,
  given: ReadonlySet<string>,
  file: string,
): TrainerSettings {
  const out: Record<string, unknown> = { ...saved };
  for (const key of Object.keys(OPTION_OF) as (keyof TrainerSettings)[]) {
    const option = OPTION_OF[key];
    const isGiven =
      key === 'total_steps'
        ? given.has('steps') || given.has('epochs')
        : given.has(option.attribute);
    if (!isGiven || saved[key] === ours[key]) continue;
    if (key === 'total_steps' && saved.schedule === 'constant') {
      out.total_steps = ours.total_steps;
      continue;
    }
    const why = key === 'total_steps' ? ' (the linear schedule decays over the total)' : '';
    throw new CliError(
      `${file}: error: ${option.flag} gives ${String(ours[key])}, the checkpoint's run ${String(saved[key])}${why}; leave the option out to resume with the checkpoint's`,
    );
  }
  return out as unknown as TrainerSettings;
}

/** A --resume that is no directory is said as such, not as a file missing inside it. */
function requireCheckpointDirectory(cwd: string, dir: string): void {
  let kind: 'missing' | 'file' | undefined;
  try {
    if (!statSync(resolve(cwd, dir)).isDirectory()) kind = 'file';
  } catch {
    kind = 'missing';
  }
  if (kind)
    throw new CliError(
      `${dir}: error: --resume takes a checkpoint directory that adapt train wrote (with ${TRAINER_STATE_FILE}); ${kind === 'file' ? 'this is not a directory' : 'there is none'}`,
    );
}
