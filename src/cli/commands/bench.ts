import { SingleBar } from 'cli-progress';
import { AdaptRuntimeError } from '../../runtime/errors.js';
import type { Target } from '../../runtime/program.js';
import { Runtime, type BackendName } from '../../runtime/runtime.js';
import { benchGraph, type GraphBench } from '../bench/measure.js';
import { profileGraph, renderProfile } from '../bench/profile.js';
import { readTextFile, writeOutputFile } from '../files.js';
import { CliError, EXIT, type CliIO } from '../io.js';
import { loadModel } from '../load-model.js';
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
  readonly profile: boolean;
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

/** `adapt bench`: the graph fused, unfused and as the bare base model, on one backend. */
export async function runBench(io: CliIO, file: string, options: BenchOptions): Promise<number> {
  const model = loadModel(io, file, options.graph);
  const source = readTextFile(io.cwd, file);
  const runtime = await Runtime.create({ backend: options.backend }).catch((error: unknown) => {
    throw error instanceof AdaptRuntimeError ? new CliError(`error: ${error.message}`) : error;
  });
  try {
    const target = options.target ?? runtime.adapter?.profile ?? 'software';
    const layers = options.layers ?? model.base.layers;
    const bar = io.color
      ? new SingleBar({ format: 'bench {bar} {value}/{total} runs', stream: process.stderr })
      : undefined;
    bar?.start(3 * (options.warmup + options.iters), 0);
    const settings = { ...options, layers, target, tick: () => bar?.increment() };
    const result = await benchGraph(runtime, source, file, settings);
    bar?.stop();
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
    if (options.profile) {
      const profile = await profileGraph(runtime, source, file, settings);
      io.stdout(`\n${renderProfile(profile)}\n`);
      Object.assign(report, { profile });
    }
    if (options.json) {
      writeOutputFile(io.cwd, options.json, `${JSON.stringify(report, null, 2)}\n`);
      io.stdout(`\n  wrote ${options.json}\n`);
    }
    return EXIT.ok;
  } catch (error) {
    if (error instanceof AdaptRuntimeError) throw new CliError(`error: ${error.message}`);
    throw error;
  } finally {
    runtime.dispose();
  }
}
