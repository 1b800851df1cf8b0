import { fixed } from '../kernels/report.js';
import type { ConfigurationResult, TargetResult } from './summary.js';

export const SECTION_HEADING = '## Serving load test';

export const CONFIGURATION_HEADERS = [
  'configuration',
  'backend',
  'max batch',
  'in flight',
  'requests',
  'failed',
  '429s',
  'sequences/s',
  'tokens/s',
  'p50 ms',
  'p99 ms',
  'mean batch',
  'server CPU ms/seq',
  'exit',
];

const orDash = (x: number | null | undefined, digits: number) =>
  x === null || x === undefined ? '-' : fixed(x, digits);

/** `webgpu on llvmpipe: Mesa …` → `webgpu`: the table's column; the adapter is said above it. */
export const backendName = (backend: string) => backend.split(' on ')[0]!;

/** The backends the servers ran on, in full, once each. */
export function backendsLine(results: readonly ConfigurationResult[]): string {
  const all = [...new Set(results.map((r) => r.backend).filter((b) => b !== null))];
  return all.length === 0 ? 'no server answered' : all.join('; ');
}

/** The server's exit code; a server that never listened shows the code it exited with too. */
function exitCell(r: ConfigurationResult): string {
  if (r.exit_code !== null) return String(r.exit_code);
  return r.load_ms === null ? 'no start' : 'killed';
}

export function configurationRows(
  results: readonly ConfigurationResult[],
  settings: { maxBatch: number; concurrency: number },
) {
  return results.map((r) => [
    r.name,
    r.backend === null ? '-' : backendName(r.backend),
    String(settings.maxBatch),
    String(settings.concurrency),
    r.load ? String(r.load.requests) : '-',
    r.load ? String(r.load.failed) : '-',
    r.load ? String(r.load.rejected_429) : '-',
    orDash(r.load?.sequences_per_s, 1),
    orDash(r.load?.tokens_per_s, 0),
    orDash(r.load?.latency_ms.p50, 0),
    orDash(r.load?.latency_ms.p99, 0),
    orDash(r.mean_batch_size, 1),
    orDash(r.server_cpu_ms_per_sequence, 0),
    exitCell(r),
  ]);
}

export const TARGET_HEADERS = ['target', 'value', 'goal', 'result'];

export function targetRows(targets: readonly TargetResult[]) {
  const percent = (x: number) => `${fixed(100 * x, 0)}%`;
  return targets.map((target) => [
    target.target,
    target.value === null ? '-' : percent(target.value),
    `≥ ${percent(target.goal)}`,
    target.met === null ? 'not measured' : target.met ? 'met' : 'missed',
  ]);
}

/** The configurations that did not run to the end, and why. */
export function errorLines(results: readonly ConfigurationResult[]): string[] {
  return results
    .filter((r) => r.error !== null)
    .map((r) => `${r.name}: ${r.error!.split('\n').slice(0, 6).join(' / ')}`);
}
