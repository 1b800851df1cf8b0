import { SingleBar } from 'cli-progress';
import { totalmem } from 'node:os';
import { estimateMemory, estimateWeights } from '../../runtime/memory.js';
import type { Target } from '../../runtime/program.js';
import { Runtime, type BackendName } from '../../runtime/runtime.js';
import {
  benchGraph,
  benchPrograms,
  type BenchSettings,
  type GraphBench,
} from '../bench/measure.js';
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

export function renderBench(result: GraphBench): string {
  const t = result.timings;
  const spread = (timing: typeof t.base) => `±${(timing.iqr / 2).toFixed(1)}`;
  return formatTable(
    ['', 'median ms', 'spread (IQR/2)', 'dispatches', ''],
    [
      ['base model', ms(t.base.median), spread(t.base), String(result.dispatches_base), ''],
      [
        'fused',
        ms(t.fused.median),
        spread(t.fused),
        String(result.dispatches_fused),
        `overhead ${percent(result.overhead)}`,
      ],
      [
        'unfused',
        ms(t.unfused.median),
        spread(t.unfused),
        String(result.dispatches_unfused),
        `fusion speedup ${result.fusion_speedup.toFixed(2)}x`,
      ],
    ],
  );
}

/**
 * The three models are loaded side by side with one host copy of the weights; --profile loads
 * the fused one again after them.
 */
function requireBenchMemory(
  source: string,
  file: string,
  settings: BenchSettings,
  backend: 'cpu' | 'webgpu',
): void {
  const programs = benchPrograms(source, file, settings);
  const shape = { batch: settings.batch, seq: settings.seq };
  requireMemory(
    `--batch ${settings.batch} --seq ${settings.seq} with ${settings.layers} layers, three models`,
    addEstimates([
      ...[programs.base, programs.fused, programs.unfused].map((program) =>
        estimateMemory(program, shape, backend),
      ),
      estimateWeights(programs.unfused),
    ]),
  );
}

/** `adapt bench`: the graph fused, unfused and as the bare base model, on one backend. */
export async function runBench(io: CliIO, file: string, options: BenchOptions): Promise<number> {
  const output = prepareOutput(
    io.cwd,
    { option: '--json', path: options.json },
    [{ option: 'the spec', path: file }],
    options.force,
  );
  const { model, source, readFile } = loadChecked(io, file, options.graph);
  const runtime = await userErrors(() =>
    Runtime.create({
      backend: options.backend,
      memoryLimitBytes: totalmem(),
      ...(options.timeout !== undefined ? { runTimeoutMs: options.timeout * 1000 } : {}),
    }),
  );
  try {
    const target = options.target ?? runtime.adapter?.profile ?? 'software';
    const layers = options.layers ?? model.base.layers;
    const bar = io.color
      ? new SingleBar({ format: 'bench {bar} {value}/{total} runs', stream: cliStderr() })
      : undefined;
    const settings = { ...options, layers, target, readFile, tick: () => bar?.increment() };
    requireBenchMemory(source, file, settings, runtime.backend === 'webgpu' ? 'webgpu' : 'cpu');
    bar?.start(3 * (options.warmup + options.iters), 0);
    const result = await userErrors(() => benchGraph(runtime, source, file, settings)).finally(() =>
      bar?.stop(),
    );
    const device = {
      backend: runtime.backend,
      adapter: runtime.adapter?.description || runtime.adapter?.architecture || 'cpu',
      profile: target,
    };
    const report = { device, batch: options.batch, seq: options.seq, layers, graphs: [result] };
    io.stdout(
      `${file}, graph '${options.graph}', ${layers} layer${layers === 1 ? '' : 's'}, batch ${options.batch}, seq ${options.seq}, ${options.iters} runs after ${options.warmup} warm-up\n`,
    );
    io.stdout(
      `  ${device.backend} on ${device.adapter}, ${target} kernels\n\n${renderBench(result)}\n`,
    );
    io.stdout(
      `\n  planned activation memory ${(result.planned_bytes / 2 ** 20).toFixed(2)} MiB, ${result.gflops.toFixed(1)} GFLOP/s (fused)\n`,
    );
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
