/**
 * `npm run bench:text`: text classification, tokenizing against the forward pass. 100 seeded
 * sentences through the fixture checkpoints (test/fixtures/hf/) on the CPU reference and on
 * WebGPU, in batches of 1, 8 and 100; per configuration the medians of tokenize, forward and
 * scores time over interleaved rounds, and whether the targets are met. A script, not a test:
 * nothing here asserts on time. Prints tables and writes bench/results/text.json and its section
 * of bench/README.md.
 */
import { loadavg } from 'node:os';
import { join, relative } from 'node:path';
import { AdaptError, maxTokens, Runtime, type BackendName } from '../src/runtime/index.js';
import { CliError } from '../src/cli/io.js';
import { table, writeReport } from './kernels/report.js';
import { repositoryRoot } from './kernels/root.js';
import { mean } from './kernels/statistics.js';
import { measureRounds, type Configuration } from './text/measure.js';
import { BATCH_SIZES, readOptions, UsageError, type TextBenchOptions } from './text/options.js';
import {
  CONFIGURATION_HEADERS,
  configurationRows,
  markdownTable,
  SECTION_HEADING,
  TARGET_HEADERS,
  targetRows,
  updateReadme,
} from './text/report.js';
import { SENTENCES, sentences, wordCount, WORDS } from './text/sentences.js';
import { CASES, loadSubject, prepareSubject, type Subject } from './text/subjects.js';
import {
  BATCH_SPEEDUP_GOAL,
  checkTargets,
  LARGE_BATCH,
  summarize,
  TOKENIZE_SHARE_LIMIT,
} from './text/summary.js';

const loadAverage = () => loadavg().map((x) => Number(x.toFixed(2)));

const notice = (message: string) => process.stderr.write(`notice: ${message}\n`);

/** The runtimes to measure: the CPU reference, and WebGPU where an adapter exists. */
async function openRuntimes(options: TextBenchOptions): Promise<Map<BackendName, Runtime>> {
  const runtimes = new Map<BackendName, Runtime>();
  if (options.backends !== 'webgpu')
    runtimes.set('cpu', await Runtime.create({ backend: 'cpu', onNotice: notice }));
  if (options.backends === 'cpu') return runtimes;
  try {
    runtimes.set('webgpu', await Runtime.create({ backend: 'webgpu', onNotice: notice }));
  } catch (error) {
    if (options.backends === 'webgpu') throw error;
    notice(`no WebGPU adapter (${(error as Error).message}); the CPU reference only`);
  }
  return runtimes;
}

/** How many tokens the texts give a model, and how many are cut to its positions. */
function tokenStatistics(subject: Subject, texts: readonly string[]) {
  const encoded = subject.tokenizer.encodeBatch([...texts], {
    maxLength: maxTokens(subject.text),
    ...(subject.text.padId === undefined ? {} : { padId: subject.text.padId }),
  });
  const counts = encoded.tokens.map((t) => t.length);
  return {
    tokens_mean: mean(counts),
    tokens_max: Math.max(...counts),
    truncated: encoded.truncated.length,
  };
}

type TokenStatistics = ReturnType<typeof tokenStatistics>;

function describeSection(
  options: TextBenchOptions,
  subjects: readonly Subject[],
  tokens: readonly TokenStatistics[],
): string {
  const { count, seed, minWords, maxWords } = SENTENCES;
  const calls = BATCH_SIZES.map((b) => {
    const passes = Math.ceil(count / b);
    return `${b} (${passes} forward pass${passes === 1 ? '' : 'es'})`;
  });
  const models = subjects.map((s, i) => {
    const head = s.text.head;
    const stats = tokens[i]!;
    return `  - \`${s.spec}\`: ${s.text.family}, head ${head.layout} (${head.scores}); ${stats.truncated} of ${count} texts cut to ${maxTokens(s.text)} tokens`;
  });
  return `${SECTION_HEADING}

\`npm run bench:text\` classifies text with the checkpoints that \`model NAME from "DIR"\` reads,
and shows where the time goes: tokenizing, the forward pass, or the scores.

- Texts: ${count} sentences of ${minWords} to ${maxWords} words, the same on every run (seed ${seed}, a fixed list of
  ${WORDS.length} words in \`bench/text/sentences.ts\`: the fixtures' vocabulary, words that split into
  \`##\` pieces and words no vocabulary has).
- Models, from \`test/fixtures/hf/\` (a spec without a file is compiled as if it sat there),
  each compiled once, fused, and loaded on the CPU reference and on WebGPU (where an adapter
  exists) with the checkpoint's weights and the adapters' file beside the fusion spec:
${models.join('\n')}
- Batches of ${calls.join(', ')}.
- Per configuration, for all ${count} texts: **tokenize ms** (\`encodeBatch\` of \`tokenizer.json\`,
  padded to the batch's longest text, cut to the model's positions), **forward ms**
  (\`model.run\` on the token ids, every output read back: \`last_hidden_state\` and \`logits\`),
  **scores ms** (softmax, or sigmoid for a multi-label head, in f64 on the host, and the best
  label), the total and sentences/s: medians of ${options.rounds} rounds after ${options.warmup} warm-up rounds, every
  configuration once per round, interleaved.
- Fairness: every configuration gets the same texts and weights, reads back the same outputs
  and awaits each run alike. \`labels = ref\` counts the texts whose label is the CPU
  reference's at batch 1, \`max Δscore\` is the largest difference of a score from it.

Targets, per model on WebGPU: tokenizing takes under ${100 * TOKENIZE_SHARE_LIMIT}% of the total at batch ${LARGE_BATCH}, and
batch ${LARGE_BATCH} is at least ${BATCH_SPEEDUP_GOAL}x faster than batch 1. The fixture models are tiny (2 layers,
hidden 32 or 16, 32 positions): a forward pass costs mostly its fixed part (upload, dispatches,
readback) and per-token kernels (a LayerNorm gives each token a workgroup of 64 invocations for
its 16 or 32 values), not a real model's arithmetic.

\`--rounds N\`, \`--warmup N\` and \`--backend auto|cpu|webgpu\` change the run; \`--out FILE\`
writes the JSON there and leaves this section alone. Raw figures, with every round:
\`bench/results/text.json\`.
`;
}

async function main(options: TextBenchOptions): Promise<void> {
  const root = repositoryRoot();
  const texts = sentences();
  const runtimes = await openRuntimes(options);
  const adapter = runtimes.get('webgpu')?.adapter;
  const target = adapter?.profile ?? 'software';
  process.stderr.write(
    `backends: ${[...runtimes.keys()].join(', ')}${adapter ? ` (${adapter.description || adapter.architecture}, ${target} kernels)` : ''}\n`,
  );
  const subjects = CASES.map((entry) => prepareSubject(root, entry, target));
  const configs: Configuration[] = [];
  for (const subject of subjects) {
    for (const [backend, runtime] of runtimes) {
      const model = await loadSubject(runtime, subject);
      for (const batch of BATCH_SIZES) configs.push({ subject, backend, model, batch });
    }
  }
  const loadAtStart = loadAverage();
  const measured = await measureRounds(configs, texts, options, (round, total) =>
    process.stderr.write(
      `round ${round + 1}/${total}${round < options.warmup ? ' (warm-up)' : ''}\n`,
    ),
  );
  const summaries = summarize(measured, texts.length);
  const targets = checkTargets(
    summaries,
    subjects.map((s) => s.name),
  );

  const words = texts.map(wordCount);
  const tokens = subjects.map((s) => tokenStatistics(s, texts));
  const device = adapter
    ? { adapter: adapter.description || adapter.architecture, profile: target }
    : null;
  const report = {
    date: new Date().toISOString(),
    command: 'npm run bench:text',
    node: process.version,
    backends: [...runtimes.keys()],
    device,
    load_average: { start: loadAtStart, end: loadAverage() },
    rounds: options.rounds,
    warmup: options.warmup,
    batch_sizes: BATCH_SIZES,
    texts: {
      ...SENTENCES,
      words: { min: Math.min(...words), max: Math.max(...words), mean: mean(words) },
      first: texts.slice(0, 3),
    },
    models: subjects.map((s, i) => ({
      name: s.name,
      spec: s.spec,
      files: s.files,
      family: s.text.family,
      head: s.text.head.layout,
      scores: s.text.head.scores,
      labels: s.text.head.labels,
      ...tokens[i]!,
    })),
    targets,
    configurations: summaries,
  };
  const outFile = options.out ?? join(root, 'bench', 'results', 'text.json');
  await writeReport(outFile, report);

  const rows = configurationRows(summaries, texts.length);
  const goals = targetRows(targets);
  const when = `${report.date}, ${device ? `${device.adapter} (${target} kernels)` : 'no WebGPU adapter'}; load average ${loadAtStart.join(', ')} at the start`;
  process.stdout.write(
    `${when}\n\n${table(CONFIGURATION_HEADERS, rows)}\n\n${table(TARGET_HEADERS, goals)}\n\n`,
  );
  process.stdout.write(`wrote ${relative(process.cwd(), outFile) || outFile}\n`);
  if (options.out === undefined) {
    const readme = join(root, 'bench', 'README.md');
    await updateReadme(
      readme,
      `${describeSection(options, subjects, tokens)}
### Latest text run

${when}.

${markdownTable(CONFIGURATION_HEADERS, rows)}

${markdownTable(TARGET_HEADERS, goals)}
`,
    );
    process.stdout.write(`updated ${relative(process.cwd(), readme)}\n`);
  }
  for (const runtime of runtimes.values()) runtime.dispose();
}

try {
  await main(readOptions(process.argv.slice(2)));
  process.exit(0);
} catch (error) {
  if (error instanceof UsageError) {
    console.error(error.message);
    process.exit(2);
  }
  // Bad fixtures or a failed run: the library's own message, which names the file or tensor.
  if (error instanceof AdaptError || error instanceof CliError) console.error(error.message);
  else console.error(error instanceof Error ? (error.stack ?? error.message) : String(error));
  process.exit(1);
}
