import { lowerModel } from '../../compiler/index.js';
import { exportOnnx, OnnxExportError, OPSET } from '../../compiler/onnx/index.js';
import { estimateWeights, formatBytes } from '../../runtime/memory.js';
import type { Program } from '../../runtime/program.js';
import { bindWeights, initWeights, type BoundWeights } from '../../runtime/weights.js';
import { CliError, EXIT, type CliIO, printable } from '../io.js';
import { loadProgram } from '../load-model.js';
import { addEstimates, requireMemory } from '../memory-check.js';
import { prepareOutput, writeOutput, type NamedPath } from '../output-file.js';
import { toCliError } from '../runtime-errors.js';
import { thousands } from '../table.js';
import { packageVersion } from '../version.js';
import { readWeightFiles } from '../weights-files.js';

export interface ExportOptions {
  readonly graph: string;
  /** Where to write the ONNX model. */
  readonly onnx: string;
  /** safetensors weight files; none: seeded initial weights. */
  readonly weights: readonly string[];
  readonly seed: number;
  /** Replace an existing --onnx file (never an input). */
  readonly force?: boolean;
}

function weightsFor(
  io: CliIO,
  file: string,
  program: Program,
  options: ExportOptions,
): BoundWeights {
  const given =
    options.weights.length > 0
      ? readWeightFiles(io.cwd, options.weights)
      : initWeights(program, options.seed);
  try {
    return bindWeights(program, given);
  } catch (error) {
    throw toCliError(error, { weights: options.weights, spec: file });
  }
}

const megabytes = (bytes: number) => `${(bytes / 2 ** 20).toFixed(1)} MiB`;

/**
 * `adapt export <file> --graph G --onnx out.onnx [--weights W]...`: the graph as lowered (no
 * fusion passes) as an ONNX model of standard opset-17 ops, with the weights as initializers.
 */
export async function runExport(io: CliIO, file: string, options: ExportOptions): Promise<number> {
  const inputs: NamedPath[] = [
    { option: 'the spec', path: file },
    ...options.weights.map((path) => ({ option: '--weights', path })),
  ];
  const output = prepareOutput(
    io.cwd,
    { option: '--onnx', path: options.onnx },
    inputs,
    options.force,
  );
  const { model, program } = loadProgram(io, file, options.graph, { fuse: false });
  const needs = estimateWeights(program);
  requireMemory(
    `export of graph '${options.graph}'`,
    addEstimates([needs, needs, needs]),
    `weights ${formatBytes(needs.weightBytes)}, three times: as read, as bound and in the ONNX bytes`,
  );
  const bound = weightsFor(io, file, program, options);
  if (bound.ignored.length > 0) {
    const shown = bound.ignored.slice(0, 5).join(', ');
    const more = bound.ignored.length > 5 ? ` and ${bound.ignored.length - 5} more` : '';
    io.stderr(
      `note: ignored ${bound.ignored.length} tensor${bound.ignored.length > 1 ? 's' : ''} that graph '${options.graph}' does not read: ${shown}${more}\n`,
    );
  }
  const ir = lowerModel(model, options.graph);
  let bytes: Uint8Array;
  try {
    bytes = exportOnnx(ir, bound.tensors, {
      fileName: file,
      graph: options.graph,
      producerVersion: packageVersion(),
    });
  } catch (error) {
    if (error instanceof OnnxExportError) throw new CliError(`${file}: error: ${error.message}`);
    throw error;
  }
  writeOutput(output, bytes);
  const parameters = program.weights.reduce((n, w) => n + w.shape.reduce((a, b) => a * b, 1), 0);
  const weights =
    options.weights.length > 0 ? options.weights.join(', ') : `seeded init (seed ${options.seed})`;
  io.stdout(
    `wrote ${printable(options.onnx)} (ONNX opset ${OPSET}, graph '${options.graph}', ${thousands(parameters)} parameters from ${weights}, ${megabytes(bytes.length)})\n`,
  );
  return EXIT.ok;
}
