import { SingleBar } from 'cli-progress';
import { estimateMemory, estimateWeights } from '../../runtime/memory.js';
import { ortProvider } from '../../runtime/onnx/ort.js';
import type { Target } from '../../runtime/program.js';
import type { BackendName, Runtime } from '../../runtime/runtime.js';
import { createBenchRuntime, requireBenchOptions } from '../bench/backend.js';
import { benchGraph, programsFor, type BenchSettings, type GraphBench } from '../bench/measure.js';
import { profileGraph, renderProfile } from '../bench/profile.js';
import { cliStderr, EXIT, type CliIO, printable } from '../io.js';
import { loadChecked } from '../load-model.js';
import { addEstimates, requireMemory } from '../memory-check.js';
import { prepareOutput, writeOutput } from '../output-file.js';
import { userErrors } from '../runtime-errors.js';
import { formatTable } from '../table.js';

export interface BenchOptions {
  readonly graph: string;
  readonly backend: BackendName | 'auto';
  readonly target?: Target;
  readonly batch: number;
  readonly seq: number;
  readonly layers?: number;
  readonly iters: number;
  readonly warmup: number;
  readonly json?: string;
  /** Replace an existing --json file (never the spec). */
  readonly force?: boolean;
  readonly profile: boolean;
  /** Seconds a WebGPU run may take. */
  readonly timeout?: number;
}

const ms = (value: number) => value.toFixed(1);
const percent = (value: number) => `${value >= 0 ? '+' : ''}${(100 * value).toFixed(1)}%`;

/** The table of one graph; the dispatches column only where a WebGPU plan ran. */
export function renderBench(result: GraphBench): string {
  const t = result.timings;
  const spread = (timing: typeof t.base) => `±${(timing.iqr / 2).toFixed(1)}`;
  const onGpu = result.dispatches_fused !== undefined;
  const dispatches = (count: number | undefined) => (onGpu ? [String(count)] : []);
  return formatTable(
    ['', 'median ms', 'spread (IQR/2)', ...(onGpu ? ['dispatches'] : []), ''],
    [
      ['base model', ms(t.base.median), spread(t.base), ...dispatches(result.dispatches_base), ''],
      [
        'fused',
        ms(t.fused.median),
        spread(t.fused),
        ...dispatches(result.dispatches_fused),
        `overhead ${percent(result.overhead)}`,
      ],
      [
        'unfused',
        ms(t.unfused.median),
        spread(t.unfused),
        ...dispatches(result.dispatches_unfused),
        `fusion speedup ${result.fusion_speedup.toFixed(2)}x`,
      ],
    ],
  );
}

/**
 * The three models are loaded side by side with one host copy of the weights (and on the onnx
 * backend one more in each ONNX Runtime session); --profile loads the fused one again after them.
 */
function requireBenchMemory(
  runtime: Runtime,
  source: string,
  file: string,
  settings: BenchSettings,
): void {
  const programs = programsFor(runtime, source, file, settings);
  const shape = { batch: settings.batch, seq: settings.seq };
  const models = [programs.base, programs.fused, programs.unfused];
  const backend = runtime.backend === 'webgpu' ? 'webgpu' : 'cpu';
  requireMemory(
    `--batch ${settings.batch} --seq ${settings.seq} with ${settings.layers} layers, three models`,
    addEstimates([
      ...models.map((program) => estimateMemory(program, shape, backend)),
      estimateWeights(programs.unfused),
      ...(programs.onnx ? models.map(estimateWeights) : []),
    ]),
  );
}

/** Where the bench ran, for the header and the JSON: the adapter, or ONNX Runtime's provider. */
async function describeDevice(runtime: Runtime, target: Target) {
  if (runtime.backend === 'onnx') {
    const provider = (await ortProvider())!;
    return {
      json: { backend: runtime.backend, provider },
      line: `onnx on ${provider}; fused: the graph after its graph-level rewrites, unfused: as lowered`,
    };
  }
  const adapter = runtime.adapter?.description || runtime.adapter?.architecture || 'cpu';
  return {
    json: { backend: runtime.backend, adapter, profile: target },
    line: `${runtime.backend} on ${adapter}, ${target} kernels`,
  };
}

/** `adapt bench`: the graph fused, unfused and as the bare base model, on one backend. */
export async function runBench(io: CliIO, file: string, options: BenchOptions): Promise<number> {
  const output = prepareOutput(
    io.cwd,
    { option: '--json', path: options.json },
    [{ option: 'the spec', path: file }],
    options.force,
  );
  requireBenchOptions(options);
  const { model, source, readFile } = loadChecked(io, file, options.graph);
  const { runtime, choice } = await createBenchRuntime(options);
  try {
    const target = options.target ?? runtime.adapter?.profile ?? 'software';
    const layers = options.layers ?? model.base.layers;
    const bar = io.color
      ? new SingleBar({ format: 'bench {bar} {value}/{total} runs', stream: cliStderr() })
      : undefined;
    const settings = { ...options, layers, target, readFile, tick: () => bar?.increment() };
    requireBenchMemory(runtime, source, file, settings);
    bar?.start(3 * (options.warmup + options.iters), 0);
    const result = await userErrors(() => benchGraph(runtime, source, file, settings)).finally(() =>
      bar?.stop(),
    );
    const device = await describeDevice(runtime, target);
    const report = {
      device: device.json,
      ...(choice ? { backend_choice: choice } : {}),
      batch: options.batch,
      seq: options.seq,
      layers,
      graphs: [result],
    };
    io.stdout(
      `${file}, graph '${options.graph}', ${layers} layer${layers === 1 ? '' : 's'}, batch ${options.batch}, seq ${options.seq}, ${options.iters} runs after ${options.warmup} warm-up\n`,
    );
    io.stdout(
      `  ${device.line}\n${choice ? `  chosen: ${choice}\n` : ''}\n${renderBench(result)}\n\n`,
    );
    const memory =
      result.planned_bytes === undefined
        ? ''
        : `planned activation memory ${(result.planned_bytes / 2 ** 20).toFixed(2)} MiB, `;
    const work = runtime.backend === 'onnx' ? 'fused time, the work as lowered' : 'fused';
    io.stdout(`  ${memory}${result.gflops.toFixed(1)} GFLOP/s (${work})\n`);
    io.stdout(
      `  cold start (fused): load ${ms(result.load_ms)} ms, first run ${ms(result.first_run_ms)} ms\n`,
    );
    if (options.profile) {
      const profile = await userErrors(() => profileGraph(runtime, source, file, settings));
      io.stdout(`\n${renderProfile(profile)}\n`);
      Object.assign(report, { profile });
    }
    if (output) {
      writeOutput(output, `${JSON.stringify(report, null, 2)}\n`);
      io.stdout(`\n  wrote ${printable(output.path)}\n`);
    }
    return EXIT.ok;
  } finally {
    runtime.dispose();
  }
}
