import { extname } from 'node:path';
import { graphPicture, lowerModel } from '../../compiler/index.js';
import { CliError, EXIT, type CliIO, printable } from '../io.js';
import { loadModel } from '../load-model.js';
import { prepareOutput, writeOutput } from '../output-file.js';
import { dotToSvg } from '../svg.js';

export interface GraphOptions {
  readonly graph: string;
  readonly output: string;
  /** Replace an existing output file (never the spec). */
  readonly force?: boolean;
}

const FORMATS: Readonly<Record<string, 'svg' | 'dot'>> = {
  '.svg': 'svg',
  '.dot': 'dot',
  '.gv': 'dot',
};

/** `adapt graph <file> [--graph G] -o out.svg|out.dot`: a picture of the graph, by layer. */
export async function runGraph(io: CliIO, file: string, options: GraphOptions): Promise<number> {
  const extension = extname(options.output).toLowerCase();
  const format = Object.hasOwn(FORMATS, extension) ? FORMATS[extension] : undefined;
  if (!format) {
    throw new CliError(
      `adapt: error: cannot tell the picture format from '${options.output}'; name the output file .svg (a picture) or .dot (Graphviz source)`,
      EXIT.usage,
    );
  }
  const output = prepareOutput(
    io.cwd,
    { option: '-o', path: options.output },
    [{ option: 'the spec', path: file }],
    options.force,
  );
  const model = loadModel(io, file, options.graph);
  const dot = graphPicture(model, options.graph, lowerModel(model, options.graph));
  writeOutput(output, format === 'svg' ? await dotToSvg(dot, options.output) : dot);
  const layers = model.base.layers;
  io.stdout(
    `wrote ${printable(options.output)} (graph '${options.graph}', ${layers} layer${layers === 1 ? '' : 's'})\n`,
  );
  return EXIT.ok;
}
