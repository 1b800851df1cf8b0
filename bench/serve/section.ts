import { fixed } from '../kernels/report.js';
import { mean } from '../kernels/statistics.js';
import { wordCount } from '../text/sentences.js';
import {
  CONFIGURATIONS,
  FIXTURE_ADAPTERS,
  MIXED_SHARE_GOAL,
  TARGET_BASE,
  TARGET_MIXED,
} from './configurations.js';
import type { ServeLoadOptions } from './options.js';
import { CONFIGURATION_HEADERS, SECTION_HEADING, TARGET_HEADERS } from './report.js';
import { markdownTable } from '../text/report.js';
import { BERT_BASE_TWO_LAYERS as SHAPE, bottleneck } from './shape.js';

/** What bench/README.md's serving section says the run does, before its figures. */
export function describeSection(
  options: ServeLoadOptions,
  texts: readonly string[],
  tokens: number[],
) {
  const words = texts.map(wordCount);
  const served = `adapt serve SPEC --port 0 --max-batch ${options.maxBatch} --max-wait-ms ${options.maxWaitMs} --backend B`;
  const backends = options.backends.map((b) => `\`${b}\``).join(', ');
  const configurations = CONFIGURATIONS.map(
    (c) => `  - **${c.name}**: \`--batching ${c.batching}\`, the spec of ${c.adapters}`,
  );
  return `${SECTION_HEADING}

\`npm run bench:serve\` load-tests \`adapt serve\` over HTTP: one adapter against many in one
batch, and many adapters batched per adapter.

- Model, written into a temporary folder and removed at the end (\`bench/serve/fixture.ts\`):
  a Hugging Face checkpoint, \`BertForSequenceClassification\` at BERT-base width with
  ${SHAPE.layers} layers (hidden ${SHAPE.hidden}, ${SHAPE.heads} heads, ffn ${SHAPE.ffn}, ${SHAPE.maxPositions} positions, ${SHAPE.labels.length} labels, the tokenizer
  of \`test/fixtures/hf/bert-seq-cls\`), weights seeded N(0, 0.02), LayerNorms 1 and 0;
  ${FIXTURE_ADAPTERS} AdapterHub seq_bn adapters (reduction factor ${SHAPE.reductionFactor}: bottleneck ${bottleneck(SHAPE)}, at every
  layer's output; weights and biases N(0, 0.01)), each with a classification head of 2 layers
  and ${SHAPE.labels.length} labels; specs of 1, 4 and 16 adapters, \`adapter aK from "DIR"\` and
  \`head aK from "DIR"\`, checked with \`adapt check\` first.
- Configurations, each on a freshly started \`${served}\` for B = ${backends} in turn (\`auto\` takes ONNX Runtime over a software rasterizer, as \`adapt run\` does),
  stopped with SIGTERM (its exit code must be 0):
${configurations.join('\n')}
- Client (\`bench/serve/\`): keep-alive HTTP, ${options.concurrency} requests in flight, each a
  \`POST /v1/classify\` of one text for an adapter drawn seeded-uniformly from the
  configuration's; ${options.warmup} warm-up requests, then ${options.requests} measured. A 429 is retried after its
  \`Retry-After\` and counted; a request's latency runs from its first try to its answer.
- Texts: ${texts.length} seeded sentences (\`bench/text/sentences.ts\`) of ${Math.min(...words)} to ${Math.max(...words)} words, ${fixed(mean(tokens), 1)} tokens on
  average; the same texts for every configuration.
- Figures: sequences/s and tokens/s (the measured texts' tokens by the tokenizer, no padding)
  over the measured requests' wall time; p50 and p99 latency; the mean batch from the
  \`adapt_batch_size\` histogram of \`/metrics\` (its sum over its count); server CPU ms/seq, the
  CPU time of the server's processes over the measured requests (from \`/proc\`) per sequence,
  which on a software rasterizer holds the forward passes and moves less than wall time with
  other work on the machine (the target's check row uses it). Each configuration
  runs once, one after the other: on a machine shared with other work (the load average
  below), compare them within one run and expect some noise.

Target: ${TARGET_MIXED} serve at least ${100 * MIXED_SHARE_GOAL}% of the sequences/s of ${TARGET_BASE}.

\`--requests N\`, \`--warmup N\`, \`--concurrency C\`, \`--max-batch B\`, \`--max-wait-ms W\`,
\`--backend auto|webgpu|onnx|cpu\` (a comma list runs each) and \`--seed S\` change the run; \`--adapt FILE\` serves with
another build of the CLI; \`--out FILE\` writes the JSON there and leaves this section alone.
Raw figures: \`bench/results/serve.json\`.
`;
}

/** The section's figures: what ran where, the configurations, the target and any failure. */
export function latestRun(
  about: readonly string[],
  rows: readonly (readonly string[])[],
  goals: readonly (readonly string[])[],
  errors: readonly string[],
): string {
  const list = (lines: readonly string[]) => lines.map((line) => `- ${line}`).join('\n');
  return `
### Latest serving run

${list(about)}

${markdownTable(CONFIGURATION_HEADERS, rows)}

${markdownTable(TARGET_HEADERS, goals)}
${errors.length === 0 ? '' : `\nConfigurations that did not run to the end:\n\n${list(errors)}\n`}`;
}
