import { instance } from '@viz-js/viz';

/** Renders Graphviz DOT to SVG with Graphviz compiled to WebAssembly (no `dot` binary needed). */
export async function dotToSvg(dot: string): Promise<string> {
  const viz = await instance();
  const result = viz.render(dot, { format: 'svg' });
  if (result.status !== 'success') {
    const reasons = result.errors.map((error) => error.message.trim()).join('; ');
    throw new Error(`Graphviz could not render the graph: ${reasons || 'unknown error'}`);
  }
  return result.output;
}
