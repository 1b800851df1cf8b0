import { parseArgs } from 'node:util';
import { count, UsageError } from '../usage.js';

export { UsageError } from '../usage.js';

export type Backend = 'auto' | 'webgpu' | 'onnx' | 'cpu';
const BACKENDS: readonly Backend[] = ['auto', 'webgpu', 'onnx', 'cpu'];

export interface ServeLoadOptions {
  /** Measured requests per configuration, after `warmup` unmeasured ones. */
  readonly requests: number;
  readonly warmup: number;
  /** Requests in flight at once. */
  readonly concurrency: number;
  readonly maxBatch: number;
  readonly maxWaitMs: number;
  /** The backend of the configurations being run. */
  readonly backend: Backend;
  /** Every backend of the run (`--backend a,b`): each runs every configuration. */
  readonly backends: readonly Backend[];
  readonly seed: number;
  /** How long a server may take to load before the run gives up on it. */
  readonly startTimeoutS: number;
  /** The adapt CLI to serve with; undefined: the repository's bin/adapt.js. */
  readonly adapt: string | undefined;
  /** Where the JSON goes; the default (bench/results/serve.json) also updates bench/README.md. */
  readonly out: string | undefined;
}

export function readOptions(args: readonly string[]): ServeLoadOptions {
  let values;
  try {
    ({ values } = parseArgs({
      args: [...args],
      options: {
        requests: { type: 'string', default: '256' },
        warmup: { type: 'string', default: '8' },
        concurrency: { type: 'string', default: '32' },
        'max-batch': { type: 'string', default: '16' },
        'max-wait-ms': { type: 'string', default: '5' },
        backend: { type: 'string', default: 'auto' },
        seed: { type: 'string', default: '11' },
        'start-timeout-s': { type: 'string', default: '300' },
        adapt: { type: 'string' },
        out: { type: 'string' },
      },
    }));
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  const backends = values.backend.split(',') as Backend[];
  const unknown = backends.find((b) => !BACKENDS.includes(b));
  if (unknown !== undefined || new Set(backends).size !== backends.length)
    throw new UsageError(
      `--backend must be a list of different ones of ${BACKENDS.join(', ')}, got '${values.backend}'`,
    );
  return {
    requests: count('requests', values.requests, 1),
    warmup: count('warmup', values.warmup, 0),
    concurrency: count('concurrency', values.concurrency, 1),
    maxBatch: count('max-batch', values['max-batch'], 1),
    maxWaitMs: count('max-wait-ms', values['max-wait-ms'], 0),
    backend: backends[0]!,
    backends,
    seed: count('seed', values.seed, 0),
    startTimeoutS: count('start-timeout-s', values['start-timeout-s'], 1),
    adapt: values.adapt,
    out: values.out,
  };
}
