/** Section 2: dispatches, kernels and planned activation memory of each example, fused or not. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { compile } from '../../src/compiler/index.js';
import { evaluateSize, type Program, type Shape } from '../../src/runtime/program.js';
import { BATCH, SEQ } from './options.js';
import { fixed, mib, table } from './report.js';

const EXAMPLES = [
  'bert-base-pfeiffer.adapt',
  'bert-base-houlsby.adapt',
  'bert-base-parallel.adapt',
  'bert-base-fusion.adapt',
  'gpt2-small-adapters.adapt',
];

export interface PlanResult {
  readonly example: string;
  readonly fused: boolean;
  readonly layers: number;
  readonly dispatches: number;
  readonly dispatchesPerLayer: number;
  readonly kernels: number;
  readonly buffers: number;
  /** Planned activation buffers at B=1, T=128: Σ 4·(perToken·B·T + perSequence·B). */
  readonly plannedBytes: number;
  /** Every value (graph inputs and computed nodes) in a buffer of its own. */
  readonly noReuseBytes: number;
  readonly error?: string;
}

function valueBytes(program: Program, batch: number, seq: number): number {
  let elements = 0;
  for (const node of program.nodes) {
    if (node.op === 'weight') continue;
    const shape: Shape = node.shape;
    elements += shape.reduce<number>((n, d) => n * (d === 'B' ? batch : d === 'T' ? seq : d), 1);
  }
  return 4 * elements;
}

function planResult(example: string, source: string, fuse: boolean): PlanResult {
  const { program, diagnostics } = compile(source, { fileName: example, fuse });
  if (!program?.gpu) {
    return {
      example,
      fused: fuse,
      layers: 0,
      dispatches: 0,
      dispatchesPerLayer: NaN,
      kernels: 0,
      buffers: 0,
      plannedBytes: NaN,
      noReuseBytes: NaN,
      error: diagnostics.map((d) => d.message).join('; ') || 'no GPU plan',
    };
  }
  const plan = program.gpu;
  const layers = program.model.layers;
  return {
    example,
    fused: fuse,
    layers,
    dispatches: plan.dispatches.length,
    dispatchesPerLayer: plan.dispatches.length / layers,
    kernels: plan.kernels.length,
    buffers: plan.buffers.length,
    plannedBytes: plan.buffers.reduce((s, size) => s + 4 * evaluateSize(size, BATCH, SEQ), 0),
    noReuseBytes: valueBytes(program, BATCH, SEQ),
  };
}

export function benchPlans(root: string): PlanResult[] {
  return EXAMPLES.flatMap((example) => {
    const source = readFileSync(join(root, 'examples', example), 'utf8');
    return [true, false].map((fuse) => planResult(example, source, fuse));
  });
}

export function printPlans(plans: readonly PlanResult[]): void {
  console.log(`2. dispatch plans (activation bytes at B=${BATCH}, T=${SEQ})\n`);
  console.log(
    table(
      [
        'example',
        'fuse',
        'layers',
        'dispatches',
        'per layer',
        'kernels',
        'buffers',
        'planned MiB',
        'no reuse MiB',
        'saved',
      ],
      plans.map((p) =>
        p.error
          ? [p.example, p.fused ? 'on' : 'off', '-', '-', '-', '-', '-', '-', '-', p.error]
          : [
              p.example,
              p.fused ? 'on' : 'off',
              String(p.layers),
              String(p.dispatches),
              fixed(p.dispatchesPerLayer, 2),
              String(p.kernels),
              String(p.buffers),
              mib(p.plannedBytes),
              mib(p.noReuseBytes),
              `${fixed(100 * (1 - p.plannedBytes / p.noReuseBytes), 1)}%`,
            ],
      ),
    ),
  );
  console.log('');
}
