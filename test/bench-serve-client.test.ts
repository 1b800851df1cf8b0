import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CONFIGURATIONS } from '../bench/serve/configurations.js';
import { HttpClient, retryAfterMs } from '../bench/serve/http.js';
import { requestPlan, runLoad } from '../bench/serve/load.js';
import { measureConfiguration, serveArgs } from '../bench/serve/measure.js';
import { growth, histogramMean, parseMetrics } from '../bench/serve/metrics.js';
import { readOptions } from '../bench/serve/options.js';
import { processTreeCpuMs } from '../bench/serve/process-cpu.js';
import { startServer } from '../bench/serve/server.js';
import { updateSection } from '../bench/readme-section.js';
import { quantile } from '../bench/serve/summary.js';
import { sentences } from '../bench/text/sentences.js';

/**
 * The load test's client against a stand-in for `adapt serve` that keeps the same contract: the
 * listening line, /healthz, /v1/models, /metrics, 429 with Retry-After, and exit 0 on SIGTERM.
 * Its answers are computed from each request, so the test sees which answer went where.
 */
const STAND_IN = String.raw`
import { createServer } from 'node:http';
import { writeFileSync } from 'node:fs';
const [, , command, spec, ...options] = process.argv;
writeFileSync(new URL('./argv.json', import.meta.url), JSON.stringify([command, spec, ...options]));
if (spec.endsWith('broken.adapt')) {
  process.stderr.write('cannot load ' + spec + '\n');
  process.exit(3);
}
const REJECTED = 5;
let classified = 0;
let batchSum = 0;
let batchCount = 0;
let tokens = 0;
const send = (res, status, value, headers = {}) => {
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(JSON.stringify(value));
};
const server = createServer((req, res) => {
  let body = '';
  req.on('data', (chunk) => (body += chunk));
  req.on('end', () => {
    if (req.url === '/healthz') return send(res, 200, { status: 'ok' });
    if (req.url === '/v1/models') return send(res, 200, { backend: 'stand-in', models: [] });
    if (req.url === '/metrics') {
      res.writeHead(200, { 'content-type': 'text/plain' });
      return res.end([
        '# TYPE adapt_batch_size histogram',
        'adapt_batch_size_bucket{le="+Inf"} ' + batchCount,
        'adapt_batch_size_sum ' + batchSum,
        'adapt_batch_size_count ' + batchCount,
        'adapt_tokens_total{adapter="all"} ' + tokens,
        '',
      ].join('\n'));
    }
    const { adapter, texts } = JSON.parse(body);
    if (++classified <= REJECTED) return send(res, 429, { error: 'queue full' }, { 'retry-after': '0' });
    if (adapter === 'fails') return send(res, 500, { error: 'no such adapter: fails' });
    batchSum += 2;
    batchCount += 1;
    const results = texts.map((text) => {
      const words = text.split(' ').length;
      tokens += words + 2;
      return { label: adapter + ':' + words, score: 0.5, logits: [words, adapter.length, 0.25] };
    });
    setTimeout(() => send(res, 200, { results }), 2);
  });
});
server.listen(0, '127.0.0.1', () => {
  process.stderr.write('loading ' + spec + '\n');
  process.stdout.write('adapt serve: listening on http://127.0.0.1:' + server.address().port + ' (stand-in)\n');
});
process.on('SIGTERM', () => {
  server.close(() => process.exit(0));
  server.closeIdleConnections();
});
`;

const dir = mkdtempSync(join(tmpdir(), 'adapt-serve-stand-in-'));
const adaptBin = join(dir, 'adapt.mjs');
writeFileSync(adaptBin, STAND_IN);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const words = (text: string) => text.split(' ').length;
const TEXTS = sentences({ count: 40, seed: 5, minWords: 24, maxWords: 32 });
const ADAPTERS = ['a0', 'a1', 'a2', 'a3'];

describe('the serving load test client', () => {
  it('reads the answers of each request back to it, in flight at once', async () => {
    const server = await startServer({
      adaptBin,
      spec: 'fixture.adapt',
      args: [],
      cwd: dir,
      timeoutMs: 20_000,
    });
    expect(server.url.hostname).toBe('127.0.0.1');
    expect(server.output().stderr).toContain('loading fixture.adapt');
    const client = new HttpClient(server.url, 8);
    const plan = requestPlan(TEXTS, ADAPTERS, 9);
    expect(new Set(plan.map((p) => p.adapter))).toEqual(new Set(ADAPTERS));
    const run = await runLoad(client, plan, 8, 3);
    client.close();
    expect(run.outcomes).toHaveLength(TEXTS.length);
    run.outcomes.forEach((outcome, i) => {
      expect(outcome.ok).toBe(true);
      const { adapter, text } = plan[i]!;
      expect(outcome.results).toEqual([
        { label: `${adapter}:${words(text)}`, score: 0.5, logits: [words(text), 2, 0.25] },
      ]);
    });
    expect(run.outcomes.reduce((n, o) => n + o.retries, 0)).toBe(5);
    expect(await server.stop(10_000)).toBe(0);
    expect(JSON.parse(readFileSync(join(dir, 'argv.json'), 'utf8'))).toEqual([
      'serve',
      'fixture.adapt',
      '--port',
      '0',
    ]);
  });

  it('measures a configuration on a fresh server: throughput, 429s, /metrics, exit code', async () => {
    const options = readOptions(['--requests', '24', '--warmup', '4', '--concurrency', '6']);
    const configuration = CONFIGURATIONS.find((c) => c.batching === 'per-adapter')!;
    const plan = requestPlan(TEXTS.slice(0, 28), ADAPTERS, 2);
    const measured = plan.slice(4);
    const tokens = measured.map((p) => words(p.text) + 2);
    const result = await measureConfiguration(
      configuration,
      { adaptBin, cwd: dir, spec: 'serve-16.adapt' },
      options,
      { warmup: plan.slice(0, 4), measured, tokens, labels: 3 },
    );
    expect(result.error).toBeNull();
    expect(result.exit_code).toBe(0);
    expect(result.backend).toBe('stand-in');
    // The warm-up took the stand-in's 429s; the measured requests all got through at once.
    expect(result.load!.rejected_429).toBe(0);
    expect(result.load!.ok).toBe(24);
    expect(result.load!.failed).toBe(0);
    expect(result.load!.tokens).toBe(tokens.reduce((a, b) => a + b, 0));
    expect(result.metrics_tokens).toBe(result.load!.tokens);
    expect(result.mean_batch_size).toBe(2);
    expect(result.server_cpu_ms_per_sequence).toBeGreaterThanOrEqual(0);
    expect(result.load!.sequences_per_s).toBeCloseTo(24 / (result.load!.wall_ms / 1000), 6);
    expect(result.load!.latency_ms.p99).toBeGreaterThanOrEqual(result.load!.latency_ms.p50);
    const argv = JSON.parse(readFileSync(join(dir, 'argv.json'), 'utf8')) as string[];
    expect(argv.slice(4)).toEqual(serveArgs(configuration, options));
    expect(argv).toContain('per-adapter');
  });

  it('counts failed answers with their error, and a server that never listens', async () => {
    const options = readOptions(['--requests', '8', '--warmup', '0', '--concurrency', '2']);
    const plan = requestPlan(TEXTS.slice(0, 8), ['fails'], 1);
    const result = await measureConfiguration(
      CONFIGURATIONS[0]!,
      { adaptBin, cwd: dir, spec: 'serve-1.adapt' },
      options,
      { warmup: [], measured: plan, tokens: plan.map(() => 30), labels: 3 },
    );
    expect(result.load!.rejected_429).toBe(5);
    expect(result.load!.ok).toBe(0);
    expect(result.load!.failed).toBe(8);
    expect(result.load!.failures[0]).toEqual({ status: 500, error: 'no such adapter: fails' });

    const broken = await measureConfiguration(
      CONFIGURATIONS[0]!,
      { adaptBin, cwd: dir, spec: 'broken.adapt' },
      options,
      { warmup: [], measured: plan, tokens: [], labels: 3 },
    );
    expect(broken.load).toBeNull();
    expect(broken.exit_code).toBe(3);
    expect(broken.error).toMatch(/exited \(code 3\) before it listened\ncannot load broken.adapt/);
  });
});

describe('the serving load test figures', () => {
  it('reads Prometheus text: sums over labels, growth and histogram means', () => {
    const before = parseMetrics('# HELP x\nadapt_batch_size_sum 10\nadapt_batch_size_count 4\n');
    const after = parseMetrics(
      'adapt_batch_size_sum{batching="mixed"} 40\nadapt_batch_size_sum{batching="x"} 7.5\n' +
        'adapt_batch_size_count 9\nadapt_tokens_total 3e2\n',
    );
    expect(after.get('adapt_batch_size_sum')).toBe(47.5);
    expect(histogramMean(before, after, 'adapt_batch_size')).toBe(37.5 / 5);
    expect(growth(before, after, 'adapt_tokens_total')).toBeUndefined();
    expect(after.get('adapt_tokens_total')).toBe(300);
  });

  it("counts a process tree's CPU time from /proc, its children's included", async () => {
    const spin =
      'const end = Date.now() + 300; while (Date.now() < end); setInterval(() => {}, 1000);';
    const child = spawn(process.execPath, ['-e', spin], { stdio: 'ignore' });
    await new Promise((resolve) => setTimeout(resolve, 600));
    const own = processTreeCpuMs(child.pid!)!;
    const tree = processTreeCpuMs(process.pid)!;
    child.kill();
    expect(own).toBeGreaterThan(0);
    expect(tree).toBeGreaterThan(own);
    expect(processTreeCpuMs(2 ** 30)).toBeUndefined();
  });

  it('interpolates quantiles between ranks, and reads Retry-After', () => {
    const xs = [7.5, 1.25, 3, 9, 4.5];
    expect(quantile(xs, 0.5)).toBe(4.5);
    expect(quantile(xs, 0.99)).toBeCloseTo(7.5 + 0.96 * 1.5, 12);
    expect(quantile(xs, 0)).toBe(1.25);
    expect(retryAfterMs('2', 100)).toBe(2000);
    expect(retryAfterMs('0.25', 100)).toBe(250);
    expect(retryAfterMs(undefined, 100)).toBe(100);
    expect(retryAfterMs('soon', 100)).toBe(100);
  });

  it('replaces its own README section only, or adds it at the end', async () => {
    const file = join(dir, 'README.md');
    const heading = '## Serving load test';
    writeFileSync(file, '# Bench\n\n## Text\n\nkept 1\n');
    await updateSection(file, heading, `${heading}\n\nfirst run\n`);
    expect(readFileSync(file, 'utf8')).toBe(
      `# Bench\n\n## Text\n\nkept 1\n\n${heading}\n\nfirst run\n`,
    );
    writeFileSync(file, `${readFileSync(file, 'utf8')}\n## Later\n\nkept 2\n`);
    await updateSection(file, heading, `${heading}\n\n| a | b |\n| - | - |\n| 1 | 2 |\n`);
    expect(readFileSync(file, 'utf8')).toBe(
      `# Bench\n\n## Text\n\nkept 1\n\n${heading}\n\n| a   | b   |\n| --- | --- |\n| 1   | 2   |\n\n## Later\n\nkept 2\n`,
    );
  });
});
