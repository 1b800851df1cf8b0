import { describe, expect, it } from 'vitest';
import { Metrics } from '../../src/cli/serve/metrics.js';

describe('Metrics', () => {
  it('writes Prometheus text with counters, gauges and cumulative histograms', () => {
    let now = 0;
    const metrics = new Metrics(
      () => 7,
      () => 3,
      () => now,
    );
    metrics.request('/v1/classify', 200, 0.02);
    metrics.request('/v1/classify', 200, 0.3);
    metrics.request('/v1/classify', 429, 0.001);
    metrics.batch(4, 100);
    now = 2000;
    metrics.batch(16, 300);
    const text = metrics.text();
    expect(text).toContain('adapt_requests_total{route="/v1/classify",code="200"} 2');
    expect(text).toContain('adapt_requests_total{route="/v1/classify",code="429"} 1');
    expect(text).toContain('adapt_request_errors_total{code="429"} 1');
    expect(text).not.toContain('adapt_request_errors_total{code="200"}');
    expect(text).toContain('adapt_request_duration_seconds_bucket{le="0.025"} 2');
    expect(text).toContain('adapt_request_duration_seconds_bucket{le="+Inf"} 3');
    expect(text).toContain('adapt_request_duration_seconds_count 3');
    expect(text).toContain('adapt_batch_size_bucket{le="4"} 1');
    expect(text).toContain('adapt_batch_size_bucket{le="16"} 2');
    expect(text).toContain('adapt_batch_size_sum 20');
    expect(text).toContain('adapt_queue_depth 7');
    expect(text).toContain('adapt_adapters 3');
    expect(text).toContain('adapt_tokens_total 400');
    expect(text).toContain('adapt_tokens_per_second 200.0');
    expect(text).toMatch(/# TYPE adapt_batch_size histogram/);
    for (const line of text.trim().split('\n'))
      expect(line).toMatch(/^(# (HELP|TYPE) \w+ .+|\w+(\{[^}]*\})? -?[\d.e+]+)$/);
  });
});
