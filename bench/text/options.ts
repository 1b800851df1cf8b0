import { parseArgs } from 'node:util';
import { count, UsageError } from '../usage.js';

export { UsageError } from '../usage.js';

export const BATCH_SIZES: readonly number[] = [1, 8, 100];

export interface TextBenchOptions {
  readonly rounds: number;
  readonly warmup: number;
  /** 'auto': the CPU reference, and WebGPU where an adapter exists. */
  readonly backends: 'auto' | 'cpu' | 'webgpu';
  /** Where the JSON goes; the default (bench/results/text.json) also updates bench/README.md. */
  readonly out: string | undefined;
}

export function readOptions(args: readonly string[]): TextBenchOptions {
  let values;
  try {
    ({ values } = parseArgs({
      args: [...args],
      options: {
        rounds: { type: 'string', default: '10' },
        warmup: { type: 'string', default: '2' },
        backend: { type: 'string', default: 'auto' },
        out: { type: 'string' },
      },
    }));
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  const backends = values.backend;
  if (backends !== 'auto' && backends !== 'cpu' && backends !== 'webgpu')
    throw new UsageError(`--backend must be auto, cpu or webgpu, got '${backends}'`);
  return {
    rounds: count('rounds', values.rounds, 1),
    warmup: count('warmup', values.warmup, 0),
    backends,
    out: values.out,
  };
}
