import { estimateWeights, formatBytes } from '../../runtime/memory.js';
import { saveSafetensors, type SafetensorsEntry } from '../../runtime/safetensors.js';
import type { WeightSpec } from '../../runtime/program.js';
import { initWeights } from '../../runtime/weights.js';
import { CliError, EXIT, type CliIO, printable } from '../io.js';
import { loadProgram } from '../load-model.js';
import { addEstimates, requireMemory } from '../memory-check.js';
import { prepareOutput, writeOutput } from '../output-file.js';
import { formatTable, thousands } from '../table.js';

export interface WeightsOptions {
  readonly graph: string;
  readonly list: boolean;
  readonly init: boolean;
  readonly output?: string;
  /** Replace an existing -o file (never the spec). */
  readonly force?: boolean;
  readonly seed: number;
}

/** `adapt weights <file> --list | --init -o W.safetensors`. */
export function runWeights(io: CliIO, file: string, options: WeightsOptions): number {
  if (options.list === options.init) {
    throw new CliError('adapt: error: give exactly one of --list or --init -o FILE', EXIT.usage);
  }
  if (options.init && !options.output) {
    throw new CliError(
      'adapt: error: weights --init: name the output file with -o FILE.safetensors',
      EXIT.usage,
    );
  }
  if (options.list && options.output) {
    throw new CliError(
      'adapt: error: weights --list prints to stdout; -o goes with --init',
      EXIT.usage,
    );
  }
  const output = prepareOutput(
    io.cwd,
    { option: '-o', path: options.output },
    [{ option: 'the spec', path: file }],
    options.force,
  );
  const { program } = loadProgram(io, file, options.graph);
  if (options.list) {
    const derived = program.weights.some((w) => w.from);
    const rows = program.weights.map((w) => {
      const count = w.shape.reduce((a, b) => a * b, 1);
      const init = w.init.kind === 'normal' ? `N(0, ${w.init.std})` : w.init.kind;
      const row = [w.name, `[${w.shape.join(', ')}]`, thousands(count), init];
      return derived ? [...row, w.from ? describeSource(w.from) : ''] : row;
    });
    const total = program.weights.reduce((n, w) => n + w.shape.reduce((a, b) => a * b, 1), 0);
    const headers = ['tensor', 'shape', 'params', 'init', ...(derived ? ['read from'] : [])];
    io.stdout(`${formatTable(headers, rows)}\n`);
    io.stdout(
      `  ${thousands(program.weights.length)} tensors, ${thousands(total)} parameters (graph '${program.graph}')\n`,
    );
    return EXIT.ok;
  }
  const weights = estimateWeights(program);
  requireMemory(
    `weights --init for graph '${program.graph}'`,
    addEstimates([weights, weights]),
    `weights ${formatBytes(weights.weightBytes)}, twice: the tensors and the file's bytes`,
  );
  const tensors = initWeights(program, options.seed);
  const entries = [...tensors].map(([name, t]): [string, SafetensorsEntry] => [
    name,
    { shape: t.shape, data: t.data as Float32Array },
  ]);
  writeOutput(output!, saveSafetensors(entries, { format: 'pt', generator: 'adaptc' }));
  io.stdout(
    `wrote ${printable(output!.path)} (${tensors.size} tensors, seed ${options.seed}, graph '${program.graph}')\n`,
  );
  return EXIT.ok;
}

/** Where a weight derived at load comes from: `h.0.attn.c_attn.weight, transposed, rows 0..16`. */
function describeSource(from: NonNullable<WeightSpec['from']>): string {
  const rows = from.rows ? `, rows ${from.rows[0]}..${from.rows[1]}` : '';
  return `${from.tensor}${from.transpose ? ', transposed' : ''}${rows}`;
}
