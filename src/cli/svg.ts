import { instance } from '@viz-js/viz';
import { CliError } from './io.js';
import { thousands } from './table.js';

/**
 * The most edges a picture may have to be drawn as SVG. Graphviz's layout takes superlinear time
 * and recurses deeper with the graph: 7,000 edges (500 layers of two adapters and a fusion) take
 * ten seconds, and 14,000 overflow the stack of its WebAssembly build. The DOT source has no limit.
 */
export const MAX_SVG_EDGES = 8_000;

function countEdges(dot: string): number {
  let count = 0;
  for (let at = dot.indexOf('->'); at !== -1; at = dot.indexOf('->', at + 2)) count++;
  return count;
}

/**
 * Renders Graphviz DOT to SVG with Graphviz compiled to WebAssembly (no `dot` binary needed). A
 * picture past MAX_SVG_EDGES, or one Graphviz fails on, is one CliError naming `output`.
 */
export async function dotToSvg(dot: string, output = 'the picture'): Promise<string> {
  const edges = countEdges(dot);
  const dotInstead = 'name the output file .dot to write the Graphviz source instead';
  if (edges > MAX_SVG_EDGES) {
    throw new CliError(
      `${output}: error: the picture has ${thousands(edges)} edges, more than the ${thousands(MAX_SVG_EDGES)} that are laid out as SVG; ${dotInstead}`,
    );
  }
  const viz = await instance();
  let result: ReturnType<typeof viz.render>;
  try {
    result = viz.render(dot, { format: 'svg' });
  } catch (error) {
    if (!(error instanceof RangeError)) throw error;
    throw new CliError(
      `${output}: error: Graphviz ran out of stack laying out the picture; ${dotInstead}`,
    );
  }
  if (result.status !== 'success') {
    const reasons = result.errors.map((error) => error.message.trim()).join('; ');
    throw new CliError(
      `${output}: error: Graphviz could not render the graph: ${reasons || 'unknown error'}`,
    );
  }
  return result.output;
}
