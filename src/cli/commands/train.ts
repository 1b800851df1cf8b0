import { join } from 'node:path';
import { AdaptError } from '../../runtime/errors.js';
import type { TrainingSetup } from '../../runtime/training/backend.js';
import { trainingHead } from '../../runtime/training/head.js';
import { train, TRAIN_DEFAULTS, type StepReport } from '../../runtime/training/loop.js';
import { stepsPerEpoch } from '../../runtime/training/order.js';
import { readCheckpoint } from '../checkpoint-files.js';
import { CliError, EXIT, type CliIO } from '../io.js';
import { loadProgram } from '../load-model.js';
import { userErrors } from '../runtime-errors.js';
import { createTrainer } from '../train/backend.js';
import { readDataFile, trainingCliError, type DataFile } from '../train/data-files.js';
import {
  createDirectory,
  hubSaveProblem,
  requireNewDirectory,
  TRAINED_WEIGHTS_FILE,
  trainedFiles,
  writeDirectory,
} from '../train/directory.js';
import { optimizerFile } from '../train/optimizer-file.js';
import type { TrainOptions } from '../train/options.js';
import { evaluationLine, trainingProgress } from '../train/progress.js';
import { readResume } from '../train/resume.js';
import { parameterCounts, renderParameterTable } from '../train/summary.js';
import { trainTarget } from '../train/target.js';
import {
  OPTIMIZER_FILE,
  TRAINER_STATE_FILE,
  trainerStateJson,
  type TrainerSettings,
} from '../train/trainer-state.js';
import { trainingWeights } from '../train/weights.js';

/** `adapt train`: one adapter (with its head) or one fusion, trained on a JSONL file. */
export async function runTrain(io: CliIO, file: string, options: TrainOptions): Promise<number> {
  if (options.steps !== undefined && options.epochs !== undefined)
    throw new CliError('adapt: error: give --steps or --epochs, not both', EXIT.usage);
  requireNewDirectory(io.cwd, options.out, '--out');
  const notice = (line: string) => io.stderr(`note: ${line}\n`);

  const lowered = loadProgram(io, file, options.graph, { fuse: false, gpu: false });
  const { model, program } = lowered;
  const target = trainTarget(file, model, program, options);
  if (program.parallel || program.inputs.some((input) => input.name === 'adapter_index'))
    throw new CliError(
      `${file}: error: graph '${options.graph}' is a ${program.parallel ? 'parallel' : 'batch'}(...) graph; training takes a graph that ends in one head`,
    );
  // Before the checkpoint is read: a graph on hidden states has none, and a head it cannot train.
  const head = located(file, () => trainingHead(program));
  const text = program.model.text!;
  const checkpoint = readCheckpoint(io.cwd, file, model.base.checkpoint!.dir, { tokenizer: true });
  if (!checkpoint.tokenizer)
    throw new CliError(
      `${checkpoint.dir}: error: no tokenizer.json, so --data cannot be tokenized`,
    );
  const data = readDataFile(io.cwd, options.data, head, text, checkpoint.tokenizer, notice);
  const evalData = options.eval
    ? readDataFile(io.cwd, options.eval, head, text, checkpoint.tokenizer, notice)
    : undefined;
  const weights = trainingWeights(io.cwd, file, lowered, checkpoint, options, target);
  const { trainable } = weights.prepared;

  // The settings of the command line, for a batch size: the checkpoint's where --resume leaves it out.
  const settingsFor = (batch = options.batch): TrainerSettings => ({
    lr: options.lr,
    weight_decay: options.weightDecay,
    beta1: TRAIN_DEFAULTS.beta1,
    beta2: TRAIN_DEFAULTS.beta2,
    eps: TRAIN_DEFAULTS.eps,
    warmup_steps: options.warmupSteps,
    schedule: options.schedule,
    total_steps: options.steps ?? perEpochOf(data, batch) * (options.epochs ?? 1),
    batch,
    seed: options.seed,
    shuffle: options.shuffle,
    dropout: options.dropout ?? 0,
  });
  const resumed = options.resume
    ? readResume(io.cwd, options.resume, {
        target,
        graph: options.graph,
        dataSha256: data.sha256,
        data: options.data,
        trained: trainable.names,
        settingsFor,
        given: options.given,
      })
    : undefined;
  const settings = resumed?.settings ?? settingsFor();
  const startWeights = new Map(weights.prepared.setup.weights);
  for (const [name, tensor] of resumed?.weights ?? []) startWeights.set(name, tensor);
  const setup: TrainingSetup = {
    ...weights.prepared.setup,
    weights: startWeights,
    ...(resumed ? { optimizerState: resumed.optimizer } : {}),
    ...(settings.dropout > 0
      ? { dropout: { probability: settings.dropout, seed: settings.seed } }
      : {}),
  };
  const backend = await userErrors(() => createTrainer(setup, options.backend, notice));
  const what = 'adapter' in target ? `adapter '${target.adapter}'` : `fusion '${target.fusion}'`;
  const counts = parameterCounts(program, trainable);
  const hubProblem = hubSaveProblem(model, program, target, startWeights);
  if (hubProblem)
    notice(
      `${hubProblem}; ${options.out} will hold the trained tensors (${TRAINED_WEIGHTS_FILE}, for --weights) and the checkpoint files only`,
    );
  const startStep = resumed?.state.step ?? 0;
  // Before the run, so that an --out that cannot be written stops it at once.
  createDirectory(io.cwd, options.out);
  io.stderr(
    `training ${what} of ${file}, graph '${options.graph}', on ${backend.name}: ${counted(data.encoded.rows.length, 'row')}, batch ${settings.batch}, ${counted(settings.total_steps, 'step')}${settings.dropout > 0 ? `, dropout ${settings.dropout}` : ''}${startStep > 0 ? ` from step ${startStep}` : ''}\n`,
  );
  if (weights.prepared.initialized.length > 0 && !resumed)
    notice(
      `${weights.prepared.initialized.length} trained tensors are new, seeded (seed ${options.seed})`,
    );

  const history: { step: number; loss: number; lr: number }[] = [
    ...(resumed?.state.log_history ?? []),
  ];
  const progress = trainingProgress(io, options.logEvery, startStep);
  const saveState = async (dir: string, step: number) => {
    const trained = await backend.trainedWeights();
    const current = new Map(startWeights);
    for (const [name, tensor] of trained) current.set(name, tensor);
    const files = trainedFiles(model, program, target, current, trainable.names, !hubProblem);
    const state = {
      format: 'adaptc-trainer-state' as const,
      version: 1 as const,
      step,
      epoch: step / perEpochOf(data, settings.batch),
      target,
      graph: options.graph,
      backend: backend.name,
      data: { file: options.data, rows: data.encoded.rows.length, sha256: data.sha256 },
      position: step * settings.batch,
      settings,
      log_history: history,
    };
    writeDirectory(io.cwd, dir, [
      ...files,
      { name: OPTIMIZER_FILE, bytes: optimizerFile(await backend.optimizerState(), step) },
      { name: TRAINER_STATE_FILE, bytes: trainerStateJson(state) },
    ]);
  };
  try {
    const result = await train(
      backend,
      {
        program,
        data: data.encoded,
        ...(evalData ? { eval: evalData.encoded } : {}),
        batchSize: settings.batch,
        shuffle: settings.shuffle,
        seed: settings.seed,
        schedule: {
          kind: settings.schedule,
          lr: settings.lr,
          warmupSteps: settings.warmup_steps,
          totalSteps: settings.total_steps,
        },
        optimizer: {
          weightDecay: settings.weight_decay,
          beta1: settings.beta1,
          beta2: settings.beta2,
          eps: settings.eps,
        },
        startStep,
        ...(options.checkpointEvery ? { checkpointEvery: options.checkpointEvery } : {}),
      },
      {
        onStep: (report: StepReport) => {
          history.push({ step: report.step, loss: report.loss, lr: report.lr });
          progress.onStep(report);
        },
        onEvaluation: progress.onEvaluation,
        onCheckpoint: async (step) => {
          const dir = join(options.out, `checkpoint-${step}`);
          await saveState(dir, step);
          progress.note(`checkpoint: wrote ${dir}`);
        },
      },
    ).catch((error: unknown) => {
      throw trainingCliError(error);
    });
    progress.stop();
    await saveState(options.out, result.steps);
    const last = result.losses.at(-1);
    const evaluation = result.evaluations.at(-1);
    io.stdout(
      [
        `trained ${what} of ${file} on ${backend.name}: ${counted(result.steps, 'step')}${last === undefined ? '' : `, last loss ${last.toFixed(4)}`}`,
        ...(evaluation ? [`  ${evaluationLine(evaluation)}`] : []),
        '',
        renderParameterTable(counts, what),
        '',
        `  wrote ${options.out}`,
        '',
      ].join('\n'),
    );
    return EXIT.ok;
  } finally {
    progress.stop();
    backend.dispose();
  }
}

const counted = (n: number, noun: string) => `${n} ${noun}${n === 1 ? '' : 's'}`;

const perEpochOf = (data: DataFile, batch: number) =>
  stepsPerEpoch({ rows: data.encoded.rows.length, batch });

/** A runtime error about the spec's graph, as `SPEC: error: …`. */
function located<T>(file: string, work: () => T): T {
  try {
    return work();
  } catch (error) {
    if (error instanceof AdaptError) throw new CliError(`${file}: error: ${error.message}`);
    throw error;
  }
}
