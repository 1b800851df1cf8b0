/** The server's counters, gauges and histograms, written as Prometheus text (format 0.0.4). */

const BATCH_BUCKETS = [1, 2, 4, 8, 16, 32, 64, 128, 256];
const LATENCY_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];
/** Tokens per second is reported over this window. */
const RATE_WINDOW_MS = 60_000;

class Histogram {
  private readonly counts: number[];
  private sum = 0;
  private count = 0;

  constructor(private readonly buckets: readonly number[]) {
    this.counts = buckets.map(() => 0);
  }

  observe(value: number): void {
    this.sum += value;
    this.count += 1;
    this.buckets.forEach((bound, i) => {
      if (value <= bound) this.counts[i]! += 1;
    });
  }

  lines(name: string): string[] {
    return [
      ...this.buckets.map((bound, i) => `${name}_bucket{le="${bound}"} ${this.counts[i]}`),
      `${name}_bucket{le="+Inf"} ${this.count}`,
      `${name}_sum ${this.sum}`,
      `${name}_count ${this.count}`,
    ];
  }
}

const escapeLabel = (value: string) =>
  value.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');

export class Metrics {
  private readonly requests = new Map<string, number>();
  private readonly errors = new Map<string, number>();
  private readonly batchSizes = new Histogram(BATCH_BUCKETS);
  private readonly latency = new Histogram(LATENCY_BUCKETS);
  private sequences = 0;
  private tokens = 0;
  private batches = 0;
  private deviceLosses = 0;
  private readonly recentTokens: { at: number; tokens: number }[] = [];
  private readonly started: number;

  constructor(
    private readonly queueDepth: () => number,
    private readonly adapterCount: () => number,
    private readonly now: () => number = () => performance.now(),
  ) {
    this.started = now();
  }

  /** One answered request: its route, status and seconds from arrival to answer. */
  request(route: string, status: number, seconds: number): void {
    const key = `route="${escapeLabel(route)}",code="${status}"`;
    this.requests.set(key, (this.requests.get(key) ?? 0) + 1);
    if (status >= 400) {
      const code = `code="${status}"`;
      this.errors.set(code, (this.errors.get(code) ?? 0) + 1);
    }
    if (route === '/v1/classify') this.latency.observe(seconds);
  }

  /**
   * One batch of `size` sequences holding `tokens` tokens (padding not counted), run in `passes`
   * forward passes (more than one where a failed batch ran its sequences again alone).
   */
  batch(size: number, tokens: number, passes = 1): void {
    this.batches += passes;
    this.sequences += size;
    this.tokens += tokens;
    this.batchSizes.observe(size);
    const at = this.now();
    this.recentTokens.push({ at, tokens });
    while (this.recentTokens.length > 0 && this.recentTokens[0]!.at < at - RATE_WINDOW_MS)
      this.recentTokens.shift();
  }

  deviceLost(): void {
    this.deviceLosses += 1;
  }

  /** Tokens over the last minute, or since the server started if that is less. */
  private tokensPerSecond(): number {
    const at = this.now();
    const recent = this.recentTokens.filter((entry) => entry.at >= at - RATE_WINDOW_MS);
    const span = Math.min(RATE_WINDOW_MS, at - this.started) / 1000;
    if (recent.length === 0 || span <= 0) return 0;
    return recent.reduce((sum, entry) => sum + entry.tokens, 0) / span;
  }

  text(): string {
    const metric = (name: string, type: string, help: string, lines: readonly string[]) => [
      `# HELP ${name} ${help}`,
      `# TYPE ${name} ${type}`,
      ...lines,
    ];
    return `${[
      ...metric(
        'adapt_requests_total',
        'counter',
        'Requests answered, by route and status code.',
        [...this.requests].map(([labels, n]) => `adapt_requests_total{${labels}} ${n}`),
      ),
      ...metric(
        'adapt_request_errors_total',
        'counter',
        'Requests answered with a 4xx or 5xx status, by code.',
        [...this.errors].map(([labels, n]) => `adapt_request_errors_total{${labels}} ${n}`),
      ),
      ...metric(
        'adapt_request_duration_seconds',
        'histogram',
        'Time from arrival to answer of /v1/classify requests.',
        this.latency.lines('adapt_request_duration_seconds'),
      ),
      ...metric('adapt_queue_depth', 'gauge', 'Sequences waiting for a batch.', [
        `adapt_queue_depth ${this.queueDepth()}`,
      ]),
      ...metric(
        'adapt_batch_size',
        'histogram',
        'Sequences per forward pass.',
        this.batchSizes.lines('adapt_batch_size'),
      ),
      ...metric(
        'adapt_batches_total',
        'counter',
        'Forward passes run (a failed batch runs its sequences again alone).',
        [`adapt_batches_total ${this.batches}`],
      ),
      ...metric('adapt_sequences_total', 'counter', 'Sequences run through a forward pass.', [
        `adapt_sequences_total ${this.sequences}`,
      ]),
      ...metric(
        'adapt_tokens_total',
        'counter',
        'Tokens run through a forward pass, padding not counted.',
        [`adapt_tokens_total ${this.tokens}`],
      ),
      ...metric('adapt_tokens_per_second', 'gauge', 'Tokens per second over the last minute.', [
        `adapt_tokens_per_second ${this.tokensPerSecond().toFixed(1)}`,
      ]),
      ...metric('adapt_adapters', 'gauge', 'Adapters loaded.', [
        `adapt_adapters ${this.adapterCount()}`,
      ]),
      ...metric('adapt_device_losses_total', 'counter', 'GPU device losses recovered from.', [
        `adapt_device_losses_total ${this.deviceLosses}`,
      ]),
    ].join('\n')}\n`;
  }
}
