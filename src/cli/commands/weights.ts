import { saveSafetensors, type SafetensorsEntry } from '../../runtime/safetensors.js';
import { initWeights } from '../../runtime/weights.js';
import { CliError, EXIT, type CliIO } from '../io.js';
import { loadProgram } from '../load-model.js';
import { formatTable, thousands } from '../table.js';
import { writeOutputFile } from '../files.js';

export interface WeightsOptions {
  readonly graph: string;
  readonly list: boolean;
  readonly init: boolean;
  readonly output?: string;
  readonly seed: number;
}

/** `adapt weights <file> --list | --init -o W.safetensors`. */
export function runWeights(io: CliIO, file: string, options: WeightsOptions): number {
  if (options.list === options.init) {
    throw new CliError('adapt weights: give exactly one of --list or --init -o FILE', EXIT.usage);
  }
  if (options.init && !options.output) {
    throw new CliError(
      'adapt weights --init: name the output file with -o FILE.safetensors',
      EXIT.usage,
    );
  }
  const { program } = loadProgram(io, file, options.graph);
  if (options.list) {
    const rows = program.weights.map((w) => {
      const count = w.shape.reduce((a, b) => a * b, 1);
      const init = w.init.kind === 'normal' ? `N(0, ${w.init.std})` : w.init.kind;
      return [w.name, `[${w.shape.join(', ')}]`, thousands(count), init];
    });
    const total = program.weights.reduce((n, w) => n + w.shape.reduce((a, b) => a * b, 1), 0);
    io.stdout(`${formatTable(['tensor', 'shape', 'params', 'init'], rows)}\n`);
    io.stdout(
      `  ${program.weights.length} tensors, ${thousands(total)} parameters (graph '${program.graph}')\n`,
    );
    return EXIT.ok;
  }
  const tensors = initWeights(program, options.seed);
  const entries = [...tensors].map(([name, t]): [string, SafetensorsEntry] => [
    name,
    { shape: t.shape, data: t.data as Float32Array },
  ]);
  writeOutputFile(
    io.cwd,
    options.output!,
    saveSafetensors(entries, { format: 'pt', generator: 'adaptc' }),
  );
  io.stdout(
    `wrote ${options.output} (${tensors.size} tensors, seed ${options.seed}, graph '${program.graph}')\n`,
  );
  return EXIT.ok;
}
