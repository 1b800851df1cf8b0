/** Samples of a Prometheus text exposition, summed over their labels, by metric name. */
export type MetricSums = ReadonlyMap<string, number>;

const SAMPLE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{.*\})?\s+(\S+)(\s+\S+)?$/;

export function parseMetrics(text: string): MetricSums {
  const sums = new Map<string, number>();
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const match = SAMPLE.exec(line);
    if (!match) continue;
    const value = Number(match[3]);
    if (!Number.isFinite(value)) continue;
    sums.set(match[1]!, (sums.get(match[1]!) ?? 0) + value);
  }
  return sums;
}

/** How much a metric grew from `before` to `after`; undefined where either lacks it. */
export function growth(before: MetricSums, after: MetricSums, name: string): number | undefined {
  const a = before.get(name);
  const b = after.get(name);
  return a === undefined || b === undefined ? undefined : b - a;
}

/** The mean of a histogram's observations between two scrapes, from its _sum and _count. */
export function histogramMean(
  before: MetricSums,
  after: MetricSums,
  name: string,
): number | undefined {
  const sum = growth(before, after, `${name}_sum`);
  const count = growth(before, after, `${name}_count`);
  return sum === undefined || count === undefined || count === 0 ? undefined : sum / count;
}
