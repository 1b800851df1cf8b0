import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { readCheckpoint } from '../../src/cli/checkpoint-files.js';
import { readSavedWeights } from '../../src/cli/saved-weights.js';
import { compile, type CompileOptions, type Model } from '../../src/compiler/index.js';
import { maxTokens, prepareInputs } from '../../src/runtime/inputs.js';
import type { Program } from '../../src/runtime/program.js';
import { loadSafetensors, type TensorMap } from '../../src/runtime/safetensors.js';
import { textInputs } from '../../src/runtime/text/classify.js';
import type { TextTokenizer } from '../../src/runtime/text/tokenizer.js';
import type { StepDropout } from '../../src/runtime/cpu/backward/dropout.js';
import {
  IGNORED_LABEL,
  type StepSettings,
  type TrainingBatch,
} from '../../src/runtime/training/backend.js';
import { dropoutSites, type DropoutSettings } from '../../src/runtime/training/dropout/sites.js';
import { bindWeights } from '../../src/runtime/weights.js';

/**
 * The PyTorch training fixtures of test/fixtures/training/ (its generate.py): per case a spec,
 * AdapterHub directories with the starting weights, data.jsonl, case.json and what PyTorch
 * computed. loadTrainingCase reads one as `adapt train` would: the spec compiled, the weights
 * bound, the rows tokenized with the checkpoint's tokenizer and cut into the batches of each step.
 */
export const TRAINING_ROOT = 'test/fixtures/training';
export const TRAINING_CASES = [
  'seq-bn',
  'double-seq-bn',
  'par-bn',
  'fusion',
  'tagging',
  'seq-bn-dropout',
  'fusion-dropout',
] as const;
export type TrainingCaseName = (typeof TRAINING_CASES)[number];

/** case.json, as generate.py writes it. */
export interface TrainingCaseConfig {
  readonly name: string;
  readonly description: string;
  readonly spec: string;
  readonly data: string;
  readonly task: 'classification' | 'tagging';
  /** What `adapt train` is told to train: `--adapter NAME` or `--fusion NAME`. */
  readonly train: { readonly adapter?: string; readonly fusion?: string };
  readonly batch: number;
  readonly steps: number;
  readonly shuffle: false;
  readonly rows_per_step: readonly (readonly number[])[];
  readonly lr: number;
  readonly weight_decay: number;
  readonly betas: readonly [number, number];
  readonly eps: number;
  readonly warmup_steps: number;
  readonly schedule: 'constant' | 'linear';
  /** The learning rate each step used (transformers' linear schedule where warmup_steps > 0). */
  readonly lr_per_step: readonly number[];
  readonly ignore_index: number;
  /** The trained tensors, in the program's naming. */
  readonly trained: readonly string[];
  /** Trained tensors whose gradient is zero in exact arithmetic (a fusion's key bias). */
  readonly zero_gradient: readonly string[];
  /** The loss of each step, before its update, in f64. */
  readonly losses: readonly number[];
  /** Train mode: every dropout at this P, the masks of the stream under `seed` (`--dropout`, `--seed`). */
  readonly dropout?: number;
  readonly seed?: number;
  /** What each dropout site of the forward pass was, in site order. */
  readonly dropout_sites?: readonly string[];
  /** How far PyTorch's float32 training lands from the float64 one (relative, largest tensor). */
  readonly float32_run: {
    readonly loss: number;
    readonly gradients: number;
    readonly after: number;
    readonly after_zero_gradient?: number;
  };
  readonly torch: string;
}

/** One data row: a text with its label, or words with one label each. */
export type TrainingRow =
  | { readonly text: string; readonly label: string }
  | { readonly tokens: readonly string[]; readonly labels: readonly string[] };

/** A batch as PyTorch's side tokenized it (I32), to hold the tokenizer to. */
export interface ExpectedBatch {
  readonly input_ids: Int32Array;
  readonly attention_mask: Int32Array;
  readonly token_type_ids: Int32Array;
  readonly labels: Int32Array;
  readonly shape: readonly number[];
}

export interface TrainingExpected {
  /** loss.K: the loss of step K, before its update. */
  readonly losses: readonly number[];
  /** grad.NAME: dLoss/dNAME of step 0, in the program's layout. */
  readonly gradients: ReadonlyMap<string, Float32Array>;
  /** after.NAME: every trained tensor after the last step. */
  readonly after: ReadonlyMap<string, Float32Array>;
  readonly batches: readonly ExpectedBatch[];
}

export interface TrainingCase {
  readonly name: string;
  readonly dir: string;
  readonly config: TrainingCaseConfig;
  readonly source: string;
  readonly specPath: string;
  readonly program: Program;
  readonly model: Model;
  /** The weight files as `adapt run` reads them: the checkpoint's, then each directory's. */
  readonly weightFiles: readonly TensorMap[];
  /** Every weight of the program, bound (the trained ones at their starting values). */
  readonly weights: ReadonlyMap<string, Float32Array>;
  readonly trained: readonly string[];
  readonly rows: readonly TrainingRow[];
  readonly tokenizer: TextTokenizer;
  /** The program output the loss is taken of, and its class count. */
  readonly output: 'logits';
  readonly classes: number;
  /** Step k's batch: rows k·B … k·B+B−1, wrapping around. */
  readonly batches: readonly TrainingBatch[];
  /** Step k's AdamW settings, and its number for the dropout masks. */
  readonly settings: readonly StepSettings[];
  /** The run's dropout, in a case trained in train mode. */
  readonly dropout?: DropoutSettings;
  readonly expected: TrainingExpected;
}

/** What forward64 drops at step `step` of a case in train mode; undefined in eval mode. */
export function caseDropout(c: TrainingCase, step: number): StepDropout | undefined {
  return c.dropout ? { sites: dropoutSites(c.program), settings: c.dropout, step } : undefined;
}

function readRows(path: string): TrainingRow[] {
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as TrainingRow);
}

/** The rows of step `step`: k·B … k·B+B−1 of the file, wrapping around. */
export function stepRows(step: number, batch: number, rows: number): number[] {
  return Array.from({ length: batch }, (_, i) => (step * batch + i) % rows);
}

/**
 * Tokenizes rows and labels them: one class per row, or per token for tagging, where the first
 * token of each word takes its word's label and every other position (special tokens, padding,
 * later pieces of a word) takes IGNORED_LABEL.
 */
export function trainingBatch(
  program: Program,
  tokenizer: TextTokenizer,
  rows: readonly TrainingRow[],
): TrainingBatch {
  const text = program.model.text!;
  const labelNames = text.head!.labels;
  const labelOf = (name: string): number => {
    const id = labelNames.indexOf(name);
    if (id < 0)
      throw new Error(`label '${name}' is not one of the head's: ${labelNames.join(', ')}`);
    return id;
  };
  const texts = rows.map((row) => ('text' in row ? row.text : row.tokens.join(' ')));
  const encoded = tokenizer.encodeBatch(texts, {
    maxLength: maxTokens(text),
    ...(text.padId === undefined ? {} : { padId: text.padId }),
  });
  const inputs = prepareInputs(program, textInputs(program, encoded));
  const labels = new Int32Array(
    text.head!.layout === 'token' ? encoded.batch * encoded.seq : encoded.batch,
  ).fill(IGNORED_LABEL);
  rows.forEach((row, b) => {
    if ('label' in row) {
      labels[b] = labelOf(row.label);
      return;
    }
    const words = encoded.words[b]!;
    words.forEach((word, t) => {
      if (word !== null && words.indexOf(word) === t)
        labels[b * encoded.seq + t] = labelOf(row.labels[word]!);
    });
  });
  return { inputs, labels };
}

function readExpected(path: string, config: TrainingCaseConfig): TrainingExpected {
  const tensors = loadSafetensors(readFileSync(path));
  const f32 = (name: string): Float32Array => {
    const tensor = tensors.get(name);
    if (!tensor || !(tensor.data instanceof Float32Array))
      throw new Error(`${path}: no F32 '${name}'`);
    return tensor.data;
  };
  const i32 = (name: string): Int32Array => {
    const tensor = tensors.get(name);
    if (!tensor || !(tensor.data instanceof Int32Array))
      throw new Error(`${path}: no I32 '${name}'`);
    return tensor.data;
  };
  const steps = Array.from({ length: config.steps }, (_, k) => k);
  return {
    losses: steps.map((k) => f32(`loss.${k}`)[0]!),
    gradients: new Map(config.trained.map((name) => [name, f32(`grad.${name}`)])),
    after: new Map(config.trained.map((name) => [name, f32(`after.${name}`)])),
    batches: steps.map((k) => ({
      input_ids: i32(`input_ids.${k}`),
      attention_mask: i32(`attention_mask.${k}`),
      token_type_ids: i32(`token_type_ids.${k}`),
      labels: i32(`labels.${k}`),
      shape: tensors.get(`input_ids.${k}`)!.shape,
    })),
  };
}

/**
 * The `adapt train` options that train as the case's PyTorch run did (add `--out DIR`, and
 * `--backend`): the target, the data, the steps, batch, lr, weight decay and schedule, in order.
 */
export function adaptTrainArguments(c: TrainingCase): string[] {
  const { config } = c;
  const target = config.train.adapter
    ? ['--adapter', config.train.adapter]
    : ['--fusion', config.train.fusion!];
  return [
    'train',
    c.specPath,
    ...target,
    '--data',
    join(c.dir, config.data),
    '--steps',
    String(config.steps),
    '--batch',
    String(config.batch),
    '--lr',
    String(config.lr),
    '--weight-decay',
    String(config.weight_decay),
    '--warmup-steps',
    String(config.warmup_steps),
    '--schedule',
    config.schedule,
    '--no-shuffle',
    ...(config.dropout === undefined
      ? []
      : ['--dropout', String(config.dropout), '--seed', String(config.seed)]),
  ];
}

/**
 * One training case, read as `adapt train` reads it. `compileOptions` are added to
 * `{ fuse: false }` (a GPU test may want `target`; `gpu: false` compiles for the CPU alone).
 */
export function loadTrainingCase(
  name: TrainingCaseName,
  compileOptions: Partial<CompileOptions> = {},
): TrainingCase {
  const dir = join(TRAINING_ROOT, name);
  const config = JSON.parse(readFileSync(join(dir, 'case.json'), 'utf8')) as TrainingCaseConfig;
  const specPath = join(dir, config.spec);
  const source = readFileSync(specPath, 'utf8');
  const compiled = compile(source, {
    fileName: specPath,
    readFile: (file) => {
      const full = join(dir, file);
      return existsSync(full) ? readFileSync(full, 'utf8') : undefined;
    },
    ...compileOptions,
    fuse: false,
  });
  const errors = compiled.diagnostics.filter((d) => d.severity === 'error');
  if (!compiled.program || !compiled.model || errors.length > 0) {
    throw new Error(`${specPath}: ${errors.map((d) => d.message).join('; ')}`);
  }
  const { program, model } = compiled;
  const checkpoint = readCheckpoint('.', specPath, model.base.checkpoint!.dir);
  const weightFiles = [
    checkpoint.weights.tensors,
    ...readSavedWeights('.', specPath, model, program.graph).tensors,
  ];
  const weights = bindWeights(program, weightFiles).tensors;
  const rows = readRows(join(dir, config.data));
  const tokenizer = checkpoint.tokenizer!;
  const batches = Array.from({ length: config.steps }, (_, k) =>
    trainingBatch(
      program,
      tokenizer,
      stepRows(k, config.batch, rows.length).map((i) => rows[i]!),
    ),
  );
  const settings = config.lr_per_step.map((lr, step) => ({
    lr,
    weightDecay: config.weight_decay,
    beta1: config.betas[0],
    beta2: config.betas[1],
    eps: config.eps,
    step,
  }));
  return {
    name,
    dir,
    config,
    source,
    specPath,
    program,
    model,
    weightFiles,
    weights,
    trained: config.trained,
    rows,
    tokenizer,
    output: 'logits',
    classes: program.model.text!.head!.labels.length,
    batches,
    settings,
    ...(config.dropout === undefined
      ? {}
      : { dropout: { probability: config.dropout, seed: config.seed! } }),
    expected: readExpected(join(dir, 'expected.safetensors'), config),
  };
}
