import { parseArgs } from 'node:util';
import { count, UsageError } from '../usage.js';

export { UsageError } from '../usage.js';

/** Every measurement is at these sizes: batch 1, one BERT-length sequence. */
export const BATCH = 1;
export const SEQ = 128;

export type Section = 'matmul' | 'plan' | 'wait';

export interface KernelBenchOptions {
  /** The most dispatches per matmul measurement. */
  readonly dispatches: number;
  /** Fewer dispatches per measurement for kernels so slow that `dispatches` would take longer. */
  readonly targetSeconds: number;
  /** The fewest dispatches per measurement, however slow the kernel. */
  readonly minDispatches: number;
  readonly reps: number;
  readonly warmups: number;
  /** Forward passes per waiting mode. */
  readonly passes: number;
  readonly sections: ReadonlySet<string>;
  /** Whether to time the register-blocked variants (off with --quick or --no-variants). */
  readonly variants: boolean;
  /** Only the variants whose name matches. */
  readonly match: RegExp;
  readonly out: string | undefined;
}

export function readOptions(args: readonly string[]): KernelBenchOptions {
  let values;
  try {
    ({ values } = parseArgs({
      args: [...args],
      options: {
        dispatches: { type: 'string', default: '20' },
        reps: { type: 'string', default: '5' },
        warmups: { type: 'string', default: '3' },
        passes: { type: 'string', default: '20' },
        'target-seconds': { type: 'string', default: '1' },
        quick: { type: 'boolean', default: false },
        'no-variants': { type: 'boolean', default: false },
        only: { type: 'string', default: 'matmul,plan,wait' },
        out: { type: 'string' },
        match: { type: 'string', default: '' },
      },
    }));
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  const dispatches = count('dispatches', values.dispatches, 1);
  const targetSeconds = Number(values['target-seconds']);
  if (!(targetSeconds > 0))
    throw new UsageError(
      `--target-seconds must be a positive number, got '${values['target-seconds']}'`,
    );
  let match: RegExp;
  try {
    match = new RegExp(values.match);
  } catch (error) {
    throw new UsageError(`--match: ${(error as Error).message}`);
  }
  return {
    dispatches,
    targetSeconds,
    minDispatches: Math.min(2, dispatches),
    reps: count('reps', values.reps, 1),
    warmups: count('warmups', values.warmups, 1),
    passes: count('passes', values.passes, 1),
    sections: new Set(values.only.split(',')),
    variants: !values.quick && !values['no-variants'],
    match,
    out: values.out,
  };
}
