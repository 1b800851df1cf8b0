/**
 * `npm run bench:serve`: the load test of `adapt serve`. Writes a synthetic checkpoint at BERT-base
 * width (2 layers) with 16 AdapterHub seq_bn adapters and their heads into a temporary folder,
 * then per configuration starts a fresh server, sends it requests from a keep-alive client with
 * a fixed number in flight, reads /metrics, and stops it with SIGTERM. A script, not a test:
 * nothing here asserts on time. Prints a table and writes bench/results/serve.json and its
 * section of bench/README.md.
 */
import { readFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { loadTokenizer } from '../src/runtime/index.js';
import { fixed, table, writeReport } from './kernels/report.js';
import { repositoryRoot } from './kernels/root.js';
import { mean } from './kernels/statistics.js';
import { checkSpecs, specSource, writeServeFixture, type ServeFixture } from './serve/fixture.js';
import {
  CONFIGURATIONS,
  FIXTURE_ADAPTERS,
  FIXTURE_SPECS,
  TEXT_WORDS,
} from './serve/configurations.js';
import { requestPlan } from './serve/load.js';
import { measureConfiguration, type Workload } from './serve/measure.js';
import { readOptions, UsageError, type ServeLoadOptions } from './serve/options.js';
import {
  backendsLine,
  CONFIGURATION_HEADERS,
  configurationRows,
  errorLines,
  SECTION_HEADING,
  TARGET_HEADERS,
  targetRows,
} from './serve/report.js';
import { updateSection } from './readme-section.js';
import { BERT_BASE_TWO_LAYERS, bottleneck } from './serve/shape.js';
import { checkTargets, type ConfigurationResult } from './serve/summary.js';
import { describeSection, latestRun } from './serve/section.js';
import { sentences, wordCount } from './text/sentences.js';

const SHAPE = BERT_BASE_TWO_LAYERS;

const log = (message: string) => process.stderr.write(`${message}\n`);
const loadAverage = () => loadavg().map((x) => Number(x.toFixed(2)));

/** This run's command line, as npm would be given it. */
function runCommand(): string {
  const args = process.argv.slice(2);
  return `npm run bench:serve${args.length === 0 ? '' : ` -- ${args.join(' ')}`}`;
}

function machine() {
  const all = cpus();
  return { cpus: all.length, cpu: all[0]?.model ?? 'unknown', node: process.version };
}

/** Each text's tokens (special tokens included, no padding), by the checkpoint's tokenizer. */
function tokenCounts(fixture: ServeFixture, texts: readonly string[]): number[] {
  const read = (file: string) => JSON.parse(readFileSync(join(fixture.dir, 'bert', file), 'utf8'));
  const tokenizer = loadTokenizer(read('tokenizer.json'), read('tokenizer_config.json'));
  const encoded = tokenizer.encodeBatch([...texts], { maxLength: SHAPE.maxPositions, padId: 0 });
  return encoded.tokens.map((t) => t.length);
}

async function main(options: ServeLoadOptions): Promise<boolean> {
  const root = repositoryRoot();
  const adaptBin =
    options.adapt === undefined ? join(root, 'bin', 'adapt.js') : resolve(options.adapt);
  const host = machine();
  const loadAtStart = loadAverage();
  log(`${host.cpus} × ${host.cpu}, node ${host.node}; load average ${loadAtStart.join(', ')}`);

  const writing = performance.now();
  const fixture = writeServeFixture(root, {
    shape: SHAPE,
    adapters: FIXTURE_ADAPTERS,
    specs: FIXTURE_SPECS,
    seed: options.seed,
  });
  const results: ConfigurationResult[] = [];
  let texts: string[];
  let tokens: number[];
  try {
    log(`fixture in ${fixture.dir} (${fixed(performance.now() - writing, 0)} ms); adapt check…`);
    await checkSpecs(adaptBin, fixture.specs.values());
    texts = sentences({
      count: options.warmup + options.requests,
      seed: options.seed,
      ...TEXT_WORDS,
    });
    tokens = tokenCounts(fixture, texts);
    const runs = options.backends.flatMap((backend) =>
      CONFIGURATIONS.map((configuration) => ({ configuration, backend })),
    );
    for (const { configuration, backend } of runs) {
      const named =
        options.backends.length > 1
          ? `${configuration.name}, --backend ${backend}`
          : configuration.name;
      log(`${named}: starting adapt serve…`);
      const plan = requestPlan(
        texts,
        fixture.adapters.slice(0, configuration.adapters),
        options.seed,
      );
      const workload: Workload = {
        warmup: plan.slice(0, options.warmup),
        measured: plan.slice(options.warmup),
        tokens: tokens.slice(options.warmup),
        labels: SHAPE.labels.length,
      };
      const spec = fixture.specs.get(configuration.adapters)!;
      const result = await measureConfiguration(
        configuration,
        { adaptBin, cwd: root, spec },
        { ...options, backend },
        workload,
      );
      const anywhere = (text: string) => text.replaceAll(fixture.dir, '$FIXTURE');
      results.push({
        ...result,
        backend_option: backend,
        command: anywhere(result.command),
        error: result.error === null ? null : anywhere(result.error),
      });
      const rate = result.load
        ? `${fixed(result.load.sequences_per_s, 1)} sequences/s`
        : 'no figures';
      log(`${named}: ${rate}${result.error ? `; ${result.error.split('\n')[0]}` : ''}`);
    }
  } finally {
    fixture.remove();
  }

  const targets = options.backends.flatMap((backend) => {
    const own = results.filter((r) => r.backend_option === backend);
    const suffix = options.backends.length > 1 ? `, --backend ${backend}` : '';
    return checkTargets(own).map((t) => ({ ...t, target: `${t.target}${suffix}` }));
  });
  const date = new Date().toISOString();
  const loadAtEnd = loadAverage();
  const report = {
    date,
    command: runCommand(),
    machine: { ...host, load_average: { start: loadAtStart, end: loadAtEnd } },
    settings: options,
    fixture: {
      shape: SHAPE,
      bottleneck: bottleneck(SHAPE),
      adapters: FIXTURE_ADAPTERS,
      specs: Object.fromEntries(FIXTURE_SPECS.map((n) => [n, specSource(n)])),
    },
    texts: {
      count: texts.length,
      seed: options.seed,
      words: { min: Math.min(...texts.map(wordCount)), max: Math.max(...texts.map(wordCount)) },
      tokens: { mean: mean(tokens), min: Math.min(...tokens), max: Math.max(...tokens) },
      first: texts.slice(0, 2),
    },
    targets,
    configurations: results,
  };
  const outFile = options.out ?? join(root, 'bench', 'results', 'serve.json');
  await writeReport(outFile, report);

  const rows = configurationRows(results, options);
  const goals = targetRows(targets);
  const errors = errorLines(results);
  const agree = results.every((r) => r.load !== null && r.metrics_tokens === r.load.tokens);
  const about = [
    `${date}: \`${runCommand()}\``,
    `backend: ${backendsLine(results)}`,
    `machine: ${host.cpus} × ${host.cpu}, node ${host.node}; load average ${loadAtStart.join(', ')} at the start, ${loadAtEnd.join(', ')} at the end`,
    ...(agree
      ? ["in every configuration the server's `adapt_tokens_total` grew by the tokens counted here"]
      : []),
  ];
  const when = about.join('\n');
  process.stdout.write(
    `${when}\n\n${table(CONFIGURATION_HEADERS, rows)}\n\n${table(TARGET_HEADERS, goals)}\n\n`,
  );
  if (errors.length > 0) process.stdout.write(`${errors.join('\n')}\n\n`);
  process.stdout.write(`wrote ${relative(process.cwd(), outFile) || outFile}\n`);
  if (options.out === undefined) {
    const readme = join(root, 'bench', 'README.md');
    const figures = latestRun(about, rows, goals, errors);
    await updateSection(readme, SECTION_HEADING, describeSection(options, texts, tokens) + figures);
    process.stdout.write(`updated ${relative(process.cwd(), readme)}\n`);
  }
  return errors.length === 0;
}

try {
  process.exit((await main(readOptions(process.argv.slice(2)))) ? 0 : 1);
} catch (error) {
  if (error instanceof UsageError) {
    console.error(error.message);
    process.exit(2);
  }
  console.error(error instanceof Error ? (error.stack ?? error.message) : String(error));
  process.exit(1);
}
