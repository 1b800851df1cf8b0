/** The loss curve's drawing area, in the SVG's viewBox units (400 × 160). */
const LEFT = 36;
const RIGHT = 392;
const TOP = 8;
const BOTTOM = 140;

/**
 * The points of the loss polyline: step i of `steps` along x, the loss along y from 0 (bottom)
 * to the largest loss so far (top).
 */
export function curvePoints(losses: readonly number[], steps: number): string {
  const top = Math.max(...losses, 1e-9);
  const span = Math.max(steps - 1, 1);
  return losses
    .map((loss, i) => {
      const x = LEFT + ((RIGHT - LEFT) * i) / span;
      const y = BOTTOM - ((BOTTOM - TOP) * loss) / top;
      return `${x.toFixed(1)},${y.toFixed(1)}`;
    })
    .join(' ');
}

const SVG = 'http://www.w3.org/2000/svg';

function svgText(x: number, y: number, text: string, anchor: 'start' | 'end'): SVGTextElement {
  const node = document.createElementNS(SVG, 'text');
  node.setAttribute('x', String(x));
  node.setAttribute('y', String(y));
  node.setAttribute('text-anchor', anchor);
  node.textContent = text;
  return node;
}

/** Redraws the curve: the polyline, and the axes' labels (the top loss, 0, the steps). */
export function drawCurve(svg: SVGSVGElement, losses: readonly number[], steps: number): void {
  const line = svg.querySelector('polyline')!;
  line.setAttribute('points', curvePoints(losses, steps));
  for (const label of svg.querySelectorAll('text')) label.remove();
  const top = losses.length > 0 ? Math.max(...losses) : 0;
  svg.append(
    svgText(LEFT - 4, TOP + 8, top.toFixed(2), 'end'),
    svgText(LEFT - 4, BOTTOM, '0', 'end'),
    svgText(LEFT, BOTTOM + 16, 'step 1', 'start'),
    svgText(RIGHT, BOTTOM + 16, `step ${steps}`, 'end'),
  );
}
