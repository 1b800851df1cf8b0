import { performance } from 'node:perf_hooks';
import type { ServeConfiguration } from './configurations.js';
import { HttpClient } from './http.js';
import { runLoad, type PlannedRequest } from './load.js';
import { growth, histogramMean, parseMetrics, type MetricSums } from './metrics.js';
import type { ServeLoadOptions } from './options.js';
import { processTreeCpuMs } from './process-cpu.js';
import { ServerStartError, startServer, type ServerProcess } from './server.js';
import { summarizeLoad, type ConfigurationResult } from './summary.js';

/** How long a server may take to drain and exit after SIGTERM. */
const STOP_GRACE_MS = 60_000;

export interface Workload {
  readonly warmup: readonly PlannedRequest[];
  readonly measured: readonly PlannedRequest[];
  /** The token count of each measured request's text. */
  readonly tokens: readonly number[];
  readonly labels: number;
}

export interface ServerSetting {
  readonly adaptBin: string;
  readonly cwd: string;
  readonly spec: string;
}

/** The `adapt serve` options of a configuration, after `serve SPEC --port 0`. */
export function serveArgs(configuration: ServeConfiguration, options: ServeLoadOptions): string[] {
  return [
    '--host',
    '127.0.0.1',
    '--max-batch',
    String(options.maxBatch),
    '--max-wait-ms',
    String(options.maxWaitMs),
    '--batching',
    configuration.batching,
    '--backend',
    options.backend,
  ];
}

/** /v1/models' `backend`: at its top level, or that of its first model. */
export function backendOf(models: unknown): string | null {
  if (typeof models !== 'object' || models === null) return null;
  const record = models as Record<string, unknown>;
  if (typeof record.backend === 'string') return record.backend;
  for (const list of [record.models, record.data]) {
    if (!Array.isArray(list)) continue;
    const first = list[0] as Record<string, unknown> | undefined;
    if (typeof first?.backend === 'string') return first.backend;
  }
  return null;
}

async function getOk(client: HttpClient, path: string): Promise<string> {
  const answer = await client.get(path);
  if (answer.status !== 200) throw new Error(`GET ${path}: ${answer.status} ${answer.body}`);
  return answer.body;
}

async function scrape(client: HttpClient): Promise<MetricSums> {
  const answer = await client.get('/metrics');
  return answer.status === 200 ? parseMetrics(answer.body) : new Map();
}

type LoadFigures = Pick<
  ConfigurationResult,
  'backend' | 'mean_batch_size' | 'metrics_tokens' | 'server_cpu_ms_per_sequence' | 'load'
>;

/** The load on a server that listens: warm-up, then the measured requests between two scrapes. */
async function load(
  server: ServerProcess,
  workload: Workload,
  concurrency: number,
): Promise<LoadFigures> {
  const client = new HttpClient(server.url, concurrency);
  try {
    await getOk(client, '/healthz');
    const backend = backendOf(JSON.parse(await getOk(client, '/v1/models')));
    await runLoad(client, workload.warmup, concurrency, workload.labels);
    const before = await scrape(client);
    const cpuBefore = processTreeCpuMs(server.pid);
    const run = await runLoad(client, workload.measured, concurrency, workload.labels);
    const cpuAfter = processTreeCpuMs(server.pid);
    const after = await scrape(client);
    const summary = summarizeLoad(run.outcomes, workload.tokens, run.wallMs);
    const cpuMs = cpuBefore === undefined || cpuAfter === undefined ? null : cpuAfter - cpuBefore;
    return {
      backend,
      mean_batch_size: histogramMean(before, after, 'adapt_batch_size') ?? null,
      metrics_tokens: growth(before, after, 'adapt_tokens_total') ?? null,
      server_cpu_ms_per_sequence: cpuMs === null || summary.ok === 0 ? null : cpuMs / summary.ok,
      load: summary,
    };
  } finally {
    client.close();
  }
}

/** Starts a fresh server for the configuration, loads it, and stops it (SIGTERM). */
export async function measureConfiguration(
  configuration: ServeConfiguration,
  setting: ServerSetting,
  options: ServeLoadOptions,
  workload: Workload,
): Promise<ConfigurationResult> {
  const args = serveArgs(configuration, options);
  const command = ['adapt', 'serve', setting.spec, '--port', '0', ...args].join(' ');
  const failed = (error: unknown, load_ms: number | null, exit_code: number | null) => ({
    ...configuration,
    command,
    backend: null,
    load_ms,
    exit_code,
    mean_batch_size: null,
    metrics_tokens: null,
    server_cpu_ms_per_sequence: null,
    load: null,
    error: (error as Error).message,
  });
  const started = performance.now();
  let server: ServerProcess;
  try {
    server = await startServer({
      ...setting,
      args,
      timeoutMs: 1000 * options.startTimeoutS,
    });
  } catch (error) {
    return failed(error, null, error instanceof ServerStartError ? error.exitCode : null);
  }
  const loadMs = performance.now() - started;
  let measured;
  try {
    measured = await load(server, workload, options.concurrency);
  } catch (error) {
    return failed(error, loadMs, await server.stop(STOP_GRACE_MS));
  }
  const exitCode = await server.stop(STOP_GRACE_MS);
  const error =
    exitCode === 0
      ? null
      : `exited ${exitCode ?? 'killed'} after SIGTERM: ${server.output().stderr.slice(-500)}`;
  return { ...configuration, command, load_ms: loadMs, exit_code: exitCode, error, ...measured };
}
