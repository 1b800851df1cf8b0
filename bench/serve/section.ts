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
import { SECTION_HEADING } from './report.js';
import { BERT_BASE_TWO_LAYERS as SHAPE, bottleneck } from './shape.js';

/** What bench/README.md's serving section says the run does, before its figures. */
export function describeSection(
  options: ServeLoadOptions,
  texts: readonly string[],
  tokens: number[],
) {
  const words = texts.map(wordCount);
  return `${SECTION_HEADING}

\`npm run bench:serve\` load-tests \`adapt serve\` over HTTP: one adapter against many in one
batch, and many adapters batched per adapter.

- Model, written into a temporary folder and removed at the end: a Hugging Face checkpoint at
  BERT-base width with ${SHAPE.layers} layers (hidden ${SHAPE.hidden}, ${SHAPE.heads} heads, ffn ${SHAPE.ffn}, ${SHAPE.maxPositions} positions, the vocabulary
  of \`test/fixtures/hf/bert-seq-cls/tokenizer.json\`; \`BertForSequenceClassification\`,
  ${SHAPE.labels.length} labels; weights seeded N(0, 0.02), LayerNorms 1 and 0), and ${FIXTURE_ADAPTERS} AdapterHub seq_bn adapters
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
auto|webgpu|cpu\` and \`--seed S\` change the run, \`--adapt FILE\` serves with another build of the CLI; \`--out FILE\` writes the JSON there and leaves this
section alone. Raw figures: \`bench/results/serve.json\`.
`;
}
