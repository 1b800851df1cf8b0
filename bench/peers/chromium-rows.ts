/**
 * Which rows of `npm run bench` run in headless Chromium, and how many rounds each gets there.
 * onnxruntime-web's WebGPU EP takes 10 to 35 s a pass at T=128 on SwiftShader, so the rows with
 * more adapter work than Pfeiffer get one warm-up and one timed round, which keeps every row in
 * the run and the run bounded.
 */

export interface ChromiumRounds {
  readonly warmup: number;
  readonly iters: number;
}

/** The rows that get the full rounds in Chromium; every other row gets one timed round. */
export const FULL_CHROMIUM_ROWS: readonly string[] = ['base', 'pfeiffer'];

/**
 * The rows a setting such as BENCH_CHROMIUM names (a comma-separated list, `all` or unset for
 * every row, `none` for no row), in the order of `rows`.
 */
export function selectRows(setting: string | undefined, rows: readonly string[]): string[] {
  const wanted = (setting ?? 'all')
    .split(',')
    .map((name) => name.trim())
    .filter((name) => name !== '');
  if (wanted.includes('all')) return [...rows];
  return rows.filter((row) => wanted.includes(row));
}

/** One warm-up round, then `iters` timed rounds for the full rows and one for the others. */
export function chromiumRounds(row: string, iters: number): ChromiumRounds {
  return { warmup: 1, iters: FULL_CHROMIUM_ROWS.includes(row) ? iters : Math.min(iters, 1) };
}
