import { readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Model } from '../../compiler/index.js';
import { OPSET } from '../../compiler/onnx/index.js';
import { onnxModel } from '../onnx-model.js';
import { estimateWeights, formatBytes } from '../../runtime/memory.js';
import type { Program } from '../../runtime/program.js';
import type { TensorMap } from '../../runtime/safetensors.js';
import { bindWeights, initWeights, type BoundWeights } from '../../runtime/weights.js';
import { checkpointDirectory, readCheckpointWeights } from '../checkpoint-files.js';
import { EXIT, type CliIO, printable } from '../io.js';
import { loadProgram } from '../load-model.js';
import { addEstimates, requireMemory } from '../memory-check.js';
import { prepareOutput, writeOutput, type NamedPath } from '../output-file.js';
import { toCliError } from '../runtime-errors.js';
import { thousands } from '../table.js';
import { readSavedWeights, type SavedWeightFiles } from '../saved-weights.js';
import { readWeightFiles } from '../weights-files.js';

export interface ExportOptions {
  readonly graph: string;
  /** Where to write the ONNX model. */
  readonly onnx: string;
  /**
   * safetensors weight files (or checkpoint directories); none: seeded initial weights. For
   * `model NAME from "DIR"` the checkpoint's weights are read from DIR and these add to them.
   */
  readonly weights: readonly string[];
  readonly seed: number;
  /** Replace an existing --onnx file (never an input). */
  readonly force?: boolean;
  /** Export the graph after adaptc's graph-level rewrites (the fusion algebra). */
  readonly optimize?: boolean;
}

/**
 * Where the weights come from: the checkpoint directory first, for a checkpoint spec, then the
 * AdapterHub directories the graph reads, then --weights.
 */
interface WeightSources {
  /** The checkpoint directory as the CLI reaches it; absent for hidden-state specs. */
  readonly checkpoint?: string;
  readonly saved: SavedWeightFiles;
  readonly files: readonly string[];
}

function weightSources(
  io: CliIO,
  file: string,
  model: Model,
  options: ExportOptions,
): WeightSources {
  const dir = model.base.checkpoint?.dir;
  return {
    ...(dir === undefined ? {} : { checkpoint: checkpointDirectory(file, dir) }),
    saved: readSavedWeights(io.cwd, file, model, options.graph),
    files: options.weights,
  };
}

/** The weight sources by name, the checkpoint directory first. */
const sourceNames = (sources: WeightSources): string[] => [
  ...(sources.checkpoint === undefined ? [] : [sources.checkpoint]),
  ...sources.saved.files,
  ...sources.files,
];

/** Every file in the checkpoint directory, none of which the ONNX file may replace. */
function checkpointFiles(cwd: string, dir: string): NamedPath[] {
  try {
    return readdirSync(resolve(cwd, dir)).map((name) => ({
      option: 'the checkpoint',
      path: join(dir, name),
    }));
  } catch {
    // A missing directory is reported when its weights are read.
    return [];
  }
}

/**
 * The weights bound to the program's names as the runtime binds them (bindWeights: the family's
 * task prefix, GPT-2's derived Conv1D weights); seeded ones where no file is given.
 */
function weightsFor(
  io: CliIO,
  file: string,
  program: Program,
  sources: WeightSources,
  seed: number,
): BoundWeights {
  const named = sourceNames(sources);
  const given: TensorMap[] =
    named.length === 0
      ? [initWeights(program, seed)]
      : [
          ...(sources.checkpoint === undefined
            ? []
            : [readCheckpointWeights(io.cwd, sources.checkpoint).tensors]),
          ...sources.saved.tensors,
          ...readWeightFiles(io.cwd, sources.files),
        ];
  try {
    return bindWeights(program, given);
  } catch (error) {
    throw toCliError(error, { weights: named, spec: file });
  }
}

const megabytes = (bytes: number) => `${(bytes / 2 ** 20).toFixed(1)} MiB`;

/**
 * `adapt export <file> --graph G --onnx out.onnx [--weights W]...`: the graph as lowered (no
 * fusion passes) as an ONNX model of standard opset-17 ops, with the weights as initializers.
 * A checkpoint spec's model takes `input_ids`, `attention_mask` and, where the family has token
 * types, `token_type_ids`; its position ids are computed in the graph.
 */
export async function runExport(io: CliIO, file: string, options: ExportOptions): Promise<number> {
  const { model, program, ir } = loadProgram(io, file, options.graph, { fuse: false });
  const sources = weightSources(io, file, model, options);
  const inputs: NamedPath[] = [
    { option: 'the spec', path: file },
    ...options.weights.map((path) => ({ option: '--weights', path })),
    ...sources.saved.files.map((path) => ({ option: 'an AdapterHub directory', path })),
    ...(sources.checkpoint === undefined ? [] : checkpointFiles(io.cwd, sources.checkpoint)),
  ];
  const output = prepareOutput(
    io.cwd,
    { option: '--onnx', path: options.onnx },
    inputs,
    options.force,
  );
  const needs = estimateWeights(program);
  requireMemory(
    `export of graph '${options.graph}'`,
    addEstimates([needs, needs, needs]),
    `weights ${formatBytes(needs.weightBytes)}, three times: as read, as bound and in the ONNX bytes`,
  );
  const bound = weightsFor(io, file, program, sources, options.seed);
  if (bound.ignored.length > 0) {
    const shown = bound.ignored.slice(0, 5).join(', ');
    const more = bound.ignored.length > 5 ? ` and ${bound.ignored.length - 5} more` : '';
    io.stderr(
      `note: ignored ${bound.ignored.length} tensor${bound.ignored.length > 1 ? 's' : ''} that graph '${options.graph}' does not read: ${shown}${more}\n`,
    );
  }
  const bytes = onnxModel(file, ir, bound.tensors, {
    graph: options.graph,
    ...(program.model.text ? { text: program.model.text } : {}),
    ...(options.optimize ? { optimize: true } : {}),
  });
  writeOutput(output, bytes);
  const parameters = program.weights.reduce((n, w) => n + w.shape.reduce((a, b) => a * b, 1), 0);
  const named = sourceNames(sources);
  const weights = named.length > 0 ? named.join(', ') : `seeded init (seed ${options.seed})`;
  io.stdout(
    `wrote ${printable(options.onnx)} (ONNX opset ${OPSET}, graph '${options.graph}', ${thousands(parameters)} parameters from ${printable(weights)}, ${megabytes(bytes.length)})\n`,
  );
  return EXIT.ok;
}
