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
import { join, relative } from 'node:path';
import { performance } from 'node:perf_hooks';
import { loadTokenizer } from '../src/runtime/index.js';
import { fixed, table, writeReport } from './kernels/report.js';
import { repositoryRoot } from './kernels/root.js';
import { mean } from './kernels/statistics.js';
import { checkSpecs, specSource, writeServeFixture, type ServeFixture } from './serve/fixture.js';
import {
  CONFIGURATIONS,
  MIXED_SHARE_GOAL,
  TARGET_BASE,
  TARGET_MIXED,
  TEXT_WORDS,
} from './serve/configurations.js';
import { requestPlan } from './serve/load.js';
import { measureConfiguration, type Workload } from './serve/measure.js';
import { readOptions, UsageError, type ServeLoadOptions } from './serve/options.js';
import {
  CONFIGURATION_HEADERS,
  configurationRows,
  errorLines,
  SECTION_HEADING,
  TARGET_HEADERS,
  targetRows,
} from './serve/report.js';
import { updateSection } from './serve/readme.js';
import { BERT_BASE_TWO_LAYERS, bottleneck } from './serve/shape.js';
import { checkTarget, type ConfigurationResult } from './serve/summary.js';
import { markdownTable } from './text/report.js';
import { sentences, wordCount } from './text/sentences.js';

const ADAPTERS = 16;
const SPECS = [1, 4, 16];
const SHAPE = BERT_BASE_TWO_LAYERS;

const log = (message: string) => process.stderr.write(`${message}\n`);
const loadAverage = () => loadavg().map((x) => Number(x.toFixed(2)));

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

function describeSection(options: ServeLoadOptions, texts: readonly string[], tokens: number[]) {
  const words = texts.map(wordCount);
  return `${SECTION_HEADING}

\`npm run bench:serve\` load-tests \`adapt serve\` over HTTP: one adapter against many in one
batch, and many adapters batched per adapter.

- Model, written into a temporary folder and removed at the end: a Hugging Face checkpoint at
  BERT-base width with ${SHAPE.layers} layers (hidden ${SHAPE.hidden}, ${SHAPE.heads} heads, ffn ${SHAPE.ffn}, ${SHAPE.maxPositions} positions, the vocabulary
  of \`test/fixtures/hf/bert-seq-cls/tokenizer.json\`; \`BertForSequenceClassification\`,
  ${SHAPE.labels.length} labels; weights seeded N(0, 0.02), LayerNorms 1 and 0), and ${ADAPTERS} AdapterHub seq_bn adapters
  (reduction factor ${SHAPE.reductionFactor}: bottleneck ${bottleneck(SHAPE)}, at every layer's output, weights and biases
  N(0, 0.01)), each with a classification head of 2 layers and ${SHAPE.labels.length} labels, read as
  \`adapter aK from "DIR"\` and \`head aK from "DIR"\` by specs of 1, 4 and 16 adapters
  (\`bench/serve/fixture.ts\`), checked with \`adapt check\` first.
- Configurations, each on a freshly started \`adapt serve SPEC --port 0 --max-batch ${options.maxBatch}
  --max-wait-ms ${options.maxWaitMs} --backend ${options.backend}\`, stopped with SIGTERM (its exit code must be 0):
  ${CONFIGURATIONS.map((c) => `**${c.name}** (\`--batching ${c.batching}\`)`).join(', ')}.
- Client (\`bench/serve/\`): keep-alive HTTP, ${options.concurrency} requests in flight, each \`POST /v1/classify\`
  with one text for an adapter drawn seeded-uniformly from the configuration's; ${options.warmup} warm-up
  requests, then ${options.requests} measured. A 429 is retried after its \`Retry-After\` and counted; a
  request's latency runs from its first try to its answer. Texts: ${texts.length} seeded sentences
  (\`bench/text/sentences.ts\`) of ${Math.min(...words)} to ${Math.max(...words)} words, ${fixed(mean(tokens), 1)} tokens on average; the same
  texts for every configuration.
- Figures: sequences/s and tokens/s (the measured texts' tokens by the tokenizer, no padding)
  over the measured requests' wall time; p50 and p99 latency; the mean batch from
  \`/metrics\`' \`adapt_batch_size\` histogram (its sum over its count) where the server has it.

Target: ${TARGET_MIXED} serve at least ${100 * MIXED_SHARE_GOAL}% of the sequences/s of ${TARGET_BASE}.

\`--requests N\`, \`--warmup N\`, \`--concurrency C\`, \`--max-batch B\`, \`--max-wait-ms W\`, \`--backend
auto|webgpu|cpu\` and \`--seed S\` change the run; \`--out FILE\` writes the JSON there and leaves this
section alone. Raw figures: \`bench/results/serve.json\`.
`;
}

async function main(options: ServeLoadOptions): Promise<boolean> {
  const root = repositoryRoot();
  const adaptBin = join(root, 'bin', 'adapt.js');
  const host = machine();
  const loadAtStart = loadAverage();
  log(`${host.cpus} × ${host.cpu}, node ${host.node}; load average ${loadAtStart.join(', ')}`);

  const writing = performance.now();
  const fixture = writeServeFixture(root, {
    shape: SHAPE,
    adapters: ADAPTERS,
    specs: SPECS,
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
    for (const configuration of CONFIGURATIONS) {
      log(`${configuration.name}: starting adapt serve…`);
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
        options,
        workload,
      );
      const anywhere = (text: string) => text.replaceAll(fixture.dir, '$FIXTURE');
      results.push({
        ...result,
        command: anywhere(result.command),
        error: result.error === null ? null : anywhere(result.error),
      });
      const rate = result.load
        ? `${fixed(result.load.sequences_per_s, 1)} sequences/s`
        : 'no figures';
      log(
        `${configuration.name}: ${rate}${result.error ? `; ${result.error.split('\n')[0]}` : ''}`,
      );
    }
  } finally {
    fixture.remove();
  }

  const target = checkTarget(results);
  const date = new Date().toISOString();
  const loadAtEnd = loadAverage();
  const report = {
    date,
    command: 'npm run bench:serve',
    machine: { ...host, load_average: { start: loadAtStart, end: loadAtEnd } },
    settings: options,
    fixture: {
      shape: SHAPE,
      bottleneck: bottleneck(SHAPE),
      adapters: ADAPTERS,
      specs: Object.fromEntries(SPECS.map((n) => [n, specSource(n)])),
    },
    texts: {
      count: texts.length,
      seed: options.seed,
      words: { min: Math.min(...texts.map(wordCount)), max: Math.max(...texts.map(wordCount)) },
      tokens: { mean: mean(tokens), min: Math.min(...tokens), max: Math.max(...tokens) },
      first: texts.slice(0, 2),
    },
    target,
    configurations: results,
  };
  const outFile = options.out ?? join(root, 'bench', 'results', 'serve.json');
  await writeReport(outFile, report);

  const rows = configurationRows(results, options);
  const goals = targetRows(target);
  const errors = errorLines(results);
  const when = `${date}, ${host.cpus} × ${host.cpu}, load average ${loadAtStart.join(', ')} at the start and ${loadAtEnd.join(', ')} at the end`;
  process.stdout.write(
    `${when}\n\n${table(CONFIGURATION_HEADERS, rows)}\n\n${table(TARGET_HEADERS, goals)}\n\n`,
  );
  if (errors.length > 0) process.stdout.write(`${errors.join('\n')}\n\n`);
  process.stdout.write(`wrote ${relative(process.cwd(), outFile) || outFile}\n`);
  if (options.out === undefined) {
    const readme = join(root, 'bench', 'README.md');
    const failures = errors.length === 0 ? '' : `\n${errors.map((e) => `- ${e}`).join('\n')}\n`;
    await updateSection(
      readme,
      SECTION_HEADING,
      `${describeSection(options, texts, tokens)}
### Latest serving run

${when}.

${markdownTable(CONFIGURATION_HEADERS, rows)}

${markdownTable(TARGET_HEADERS, goals)}
${failures}`,
    );
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
