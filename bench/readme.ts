/** The report of `npm run bench` as tables and as bench/README.md's text. */
import type { KernelGroupTime } from '../src/cli/bench/profile.js';
import type { EndToEnd } from './end-to-end.js';
import type { KernelCeiling } from './kernel-ceiling.js';
import type { ChromiumRounds } from './peers/chromium-rows.js';
import { WASM_CPU_THREADS } from './onnx-runners.js';
import type { ServingResult } from './serving/measure.js';
import type { TrainingBench } from './training/step.js';
import { TARGET_HEADERS, targetRows, targetSummary, type TargetResult } from './targets.js';
import { markdownTable } from './text/report.js';

export interface GraphRow {
  /** A graph of bench/specs, or 'base' for the bare base model. */
  readonly spec: string;
  readonly base_ms: number;
  readonly fused_ms: number;
  readonly unfused_ms: number | null;
  readonly overhead: number | null;
  readonly fusion_speedup: number | null;
  readonly dispatches_fused: number;
  readonly dispatches_unfused: number | null;
  /** Work of the fused forward pass over its median time. */
  readonly gflops: number;
  readonly load_ms: number | null;
  readonly first_run_ms: number | null;
  readonly ort_node_ms: number | null;
  readonly ort_wasm_ms: number;
  readonly ort_webgpu_ms: number;
  readonly chromium_adaptc_ms: number | null;
  readonly chromium_ort_webgpu_ms: number | null;
  /** Where the fused pass spends its time, per kernel group. */
  readonly profile: {
    readonly method: string;
    readonly total_ms: number;
    readonly groups: readonly KernelGroupTime[];
    /** GFLOP/s of the base model's FFN matmuls inside the fused pass. */
    readonly ffn_gflops: number;
  } | null;
}

export interface BenchReport {
  readonly date: string;
  readonly command: string;
  readonly device: { readonly backend: string; readonly adapter: string; readonly profile: string };
  readonly load_average_at_start: readonly number[];
  /** Wall time of the whole run, seconds. */
  wall_s: number;
  readonly batch: number;
  readonly seq: number;
  readonly layers: number;
  readonly iters: number;
  readonly warmup: number;
  /** Timed rounds for batch serving. */
  readonly slow_iters: number;
  /** Timed rounds in Chromium of the full rows, the rows run there, and each one's rounds. */
  readonly chromium_iters: number;
  readonly chromium_rows: readonly string[];
  readonly chromium_rounds: Readonly<Record<string, ChromiumRounds>>;
  /** How each peer ran. */
  readonly peers: {
    readonly ort_node: string;
    readonly ort_wasm: string;
    readonly ort_webgpu: string;
    readonly chromium: string;
  };
  readonly ort_node_installed: boolean;
  readonly graphs: readonly GraphRow[];
  readonly chromium: unknown;
  readonly kernel_ceiling: KernelCeiling | null;
  readonly serving: readonly Omit<ServingResult, 'timings'>[];
  /** The training row; null where BENCH_GRAPHS left it out. */
  readonly training: TrainingBench | null;
  /** Null in a run narrowed by BENCH_GRAPHS. */
  readonly end_to_end: EndToEnd | null;
  targets: TargetResult[];
}

const ms = (x: number | null) => (x === null ? '-' : x.toFixed(1));
const pct = (x: number | null) =>
  x === null ? '-' : `${x >= 0 ? '+' : ''}${(100 * x).toFixed(1)}%`;

export function graphTable(report: BenchReport): string {
  const headers = [
    'graph',
    'base ms',
    'fused ms',
    'unfused ms',
    'overhead',
    'fusion speedup',
    'dispatches fused / unfused',
    'GFLOP/s fused',
    'ORT-node CPU ms',
    'ORT-web wasm ms',
    'ORT-web WebGPU (Dawn) ms',
    'Chromium: adaptc ms',
    'Chromium: ORT-web WebGPU ms',
    'load ms',
    'first run ms',
  ];
  const rows = report.graphs.map((r) => [
    r.spec,
    ms(r.base_ms),
    ms(r.fused_ms),
    ms(r.unfused_ms),
    pct(r.overhead),
    r.fusion_speedup === null ? '-' : `${r.fusion_speedup.toFixed(2)}x`,
    `${r.dispatches_fused} / ${r.dispatches_unfused ?? '-'}`,
    r.gflops.toFixed(1),
    r.ort_node_ms === null ? 'not installed' : ms(r.ort_node_ms),
    ms(r.ort_wasm_ms),
    ms(r.ort_webgpu_ms),
    ms(r.chromium_adaptc_ms),
    ms(r.chromium_ort_webgpu_ms),
    ms(r.load_ms),
    ms(r.first_run_ms),
  ]);
  return markdownTable(headers, rows);
}

export function servingTable(report: BenchReport): string {
  return markdownTable(
    [
      'batch',
      'seq',
      'batch(a, b, c) ms',
      'one adapter ms',
      'routed tokens/s',
      'one adapter tokens/s',
    ],
    report.serving.map((s) => [
      String(s.batch),
      String(s.seq),
      ms(s.routed_ms),
      ms(s.single_ms),
      s.routed_tokens_per_s.toFixed(0),
      s.single_tokens_per_s.toFixed(0),
    ]),
  );
}

const mib = (bytes: number) => (bytes / 2 ** 20).toFixed(1);

/** The training row's table, and how each of its figures ran. */
export function trainingText(report: BenchReport): string {
  const t = report.training;
  if (!t) return 'Not run (a run narrowed by BENCH_GRAPHS).';
  const torch = t.torch;
  const table = markdownTable(
    [
      'graph',
      'batch × seq',
      'trainable',
      'step ms',
      'forward ms',
      'step / forward',
      'fused inference ms',
      'PyTorch CPU step ms',
      'PyTorch CPU forward ms',
      'PyTorch step / adaptc step',
      'planned GPU MiB',
    ],
    [
      [
        t.spec,
        `${t.batch} × ${t.seq}`,
        `${t.trainable.toLocaleString('en-US')} of ${t.parameters.toLocaleString('en-US')}`,
        ms(t.step_ms),
        ms(t.forward_ms),
        `${t.step_vs_forward.toFixed(2)}x`,
        ms(t.fused_forward_ms),
        torch.ok ? ms(torch.step_ms) : torch.installed ? 'failed' : 'not installed',
        torch.ok ? ms(torch.forward_ms) : '-',
        torch.ok ? `${(torch.step_ms / t.step_ms).toFixed(2)}x` : '-',
        mib(t.planned.total),
      ],
    ],
  );
  const p = t.planned;
  return [
    `\`bench/specs-training/pfeiffer-train.adapt\`: the Pfeiffer graph (r = 64 after each FFN, ${t.layers} layers) with a new`,
    `classification head of 2 labels; the adapter and the head trained, the base frozen; seeded weights,`,
    `random hidden states and labels. On WebGPU, alternated round by round, ${t.iters} timed rounds after ${t.warmup} warm-up:`,
    '`step` is one training step (forward, mean cross-entropy, backward to the trained tensors, AdamW;',
    "one submit, the loss and logits read back), `forward` the same trainer's forward pass and loss of",
    'the same unfused program (`evaluate`), `fused inference` the graph fused, through `runtime.load`.',
    '`BENCH_GRAPHS=training npm run bench` runs this row alone.',
    '',
    table,
    '',
    `- Planned GPU memory of a step: ${mib(p.total)} MiB (activations kept for the backward pass ${mib(p.activations)}, gradients and scratch ${mib(p.gradients)}, weights ${mib(p.weights)}, trained tensors with their gradients and AdamW moments ${mib(p.optimizer)}, labels, loss and read-back ${mib(p.io)}).`,
    torch.ok
      ? `- PyTorch ${torch.torch} (\`bench/training/torch_step.py\`, BLAS: ${torch.blas}) on the CPU, ${torch.threads} threads, the same model and AdamW, eval mode: ${torch.rounds} timed round${torch.rounds === 1 ? '' : 's'} after ${torch.warmup} warm-up.`
      : `- PyTorch: ${torch.installed ? `failed (${torch.error})` : 'not installed (`apt-get install python3-torch`)'}.`,
  ].join('\n');
}

/** The onnx backend's table and one line each for the seeding, the cold start and the run line. */
export function endToEndText(report: BenchReport): string {
  const e2e = report.end_to_end;
  if (!e2e) return 'Not run (a run narrowed by BENCH_GRAPHS).';
  const onnx = markdownTable(
    ['graph', 'plain export ms', 'rewritten ms', 'speed-up'],
    e2e.onnx_backend.rows.map((row) => [
      row.spec,
      ms(row.plain_ms),
      ms(row.rewritten_ms),
      `${(row.plain_ms / row.rewritten_ms).toFixed(2)}x`,
    ]),
  );
  const cold = e2e.cold_start;
  return [
    `\`--backend onnx\` on ${e2e.onnx_backend.provider}, batch 1, seq ${report.seq}, 2 layers: each graph`,
    'exported plain and after the graph-level rewrites (fusion algebra, the `W_Kᵀ·W_Q` fold),',
    `the same weights and input, both through the onnx backend, ${report.iters} timed rounds alternated.`,
    '',
    onnx,
    '',
    `- Seeded initialization of BERT-base's ${(e2e.seeding.values / 1e6).toFixed(1)} M weights on two threads (\`adapt run\`'s path): ${ms(e2e.seeding.ms)} ms.`,
    cold
      ? `- Cold start of \`${cold.spec}\` (12 layers), fused on ${cold.adapter}, T=${cold.seq}, driver shader caches off: load ${ms(cold.load_ms)} ms, first pass ${ms(cold.first_run_ms)} ms, steady ${ms(cold.steady_ms)} ms (${(cold.first_run_ms / cold.steady_ms).toFixed(2)}x).`
      : `- Cold start: not measured (${e2e.cold_start_error ?? 'no result'}).`,
    `- \`${e2e.run_command.command}\` (the \`adapt\` bin), warm (after one untimed run), wall: ${e2e.run_command.wall_ms.map((w) => ms(w)).join(', ')} ms (median ${ms(e2e.run_command.median_ms)} ms); through \`npx\`, as the README's set-up line types it, alternated with those: ${e2e.run_command.npx_wall_ms.map((w) => ms(w)).join(', ')} ms (npm's own start-up on top).`,
  ].join('\n');
}

export function targetTable(report: BenchReport): string {
  return markdownTable(TARGET_HEADERS, targetRows(report.targets));
}

/** How each peer ran, one line each, as printed under the table. */
export function peerLines(report: BenchReport): string[] {
  return [
    `ORT-node CPU: ${report.peers.ort_node}.`,
    `ORT-web wasm: ${report.peers.ort_wasm}, in Node, same process.`,
    `ORT-web WebGPU (Dawn): ${report.peers.ort_webgpu}.`,
    report.peers.chromium.startsWith('not run')
      ? `Chromium: ${report.peers.chromium}.`
      : `Chromium: ${report.peers.chromium}; ${chromiumRoundsText(report)}.`,
  ];
}

export function renderTables(report: BenchReport): string {
  const ceiling = report.kernel_ceiling;
  return [
    graphTable(report),
    '',
    ...peerLines(report),
    '',
    servingTable(report),
    '',
    trainingText(report),
    '',
    endToEndText(report),
    '',
    ceiling
      ? `Best FFN matmul kernel: ${ceiling.kernel}, ${ceiling.gflops.toFixed(1)} GFLOP/s.`
      : report.graphs.length === 0
        ? 'Best FFN matmul kernel: not run (no graph row).'
        : 'Best FFN matmul kernel: none ran correctly.',
    '',
    targetTable(report),
    '',
    `Targets: ${targetSummary(report.targets)}.`,
  ].join('\n');
}

/** How the rows ran in Chromium: the rows grouped by their rounds. */
export function chromiumRoundsText(report: BenchReport): string {
  const byRounds = new Map<string, string[]>();
  for (const row of report.chromium_rows) {
    const rounds = report.chromium_rounds[row];
    if (!rounds) continue;
    const key = `${rounds.iters} timed round${rounds.iters === 1 ? '' : 's'} after ${rounds.warmup} warm-up`;
    byRounds.set(key, [...(byRounds.get(key) ?? []), row]);
  }
  if (byRounds.size === 0) return 'no row ran in Chromium';
  return [...byRounds].map(([rounds, rows]) => `${rows.join(', ')}: ${rounds}`).join('; ');
}

function missReasons(report: BenchReport): string {
  const missed = report.targets.filter((t) => t.met === false && t.reason);
  if (missed.length === 0) return 'Every target measured was met.';
  return missed.map((t) => `- ${t.target}, ${t.graph}: ${t.reason}`).join('\n');
}

export function renderReadme(report: BenchReport): string {
  const ceiling = report.kernel_ceiling;
  return `# Benchmarks

\`npm run bench\` measures adapter graphs at BERT-base shapes (hidden 768, 12 heads, ffn 3072),
batch ${report.batch}, seq ${report.seq}, ${report.layers} layers (specs in \`bench/specs/\`): adaptc on
WebGPU fused, unfused (\`--no-fuse\`) and the bare base model, and each graph's ONNX export (the
same seeded weights, the same inputs) in ONNX Runtime. Every run reads \`last_hidden_state\` back
to the CPU. Within each row the variants and the peers in Node run alternated round by round,
${report.iters} timed rounds after ${report.warmup} warm-up rounds (the median is shown), so that load from
elsewhere on a shared machine falls on all of them alike. Compare ratios within one run, not
absolute times across runs.

To reproduce: \`npm run bench\` (\`BENCH_ITERS=5 npm run bench\` for a shorter run;
\`BENCH_GRAPHS=base,fusion8\` measures those rows only, and writes neither this file nor
\`latest.json\`).

## Peers

- **ORT-node CPU**: onnxruntime-node's CPU execution provider, native and multithreaded,
  \`graphOptimizationLevel: 'all'\`. Optional and not in package.json (its install script downloads
  CUDA libraries from outside the npm registry); where it is missing the column says
  \`not installed\`.
- **ORT-web wasm**: onnxruntime-web's wasm execution provider in Node with ${WASM_CPU_THREADS} threads,
  \`graphOptimizationLevel: 'all'\`, its WebAssembly compiled under the V8 tiering budget that
  adaptc's onnx backend sets (\`--wasm-tiering-budget\`, \`src/runtime/onnx/ort.ts\`), as is the
  WebGPU provider's.
- **ORT-web WebGPU (Dawn)**: onnxruntime-web's WebGPU execution provider in Node over the same
  Dawn (the \`webgpu\` package) that adaptc runs on, with the CPU fallback disabled (every node on
  WebGPU; the fusion's \`Sum\` rewritten as \`Add\`s, which that provider has). Each \`session.run\`
  and its readback waits inside adaptc's \`gpuWait\`, the timer poll adaptc's runtime waits with,
  instead of Dawn's default busy \`setImmediate\` loop that takes a core from lavapipe.
- **Chromium**: one page in headless Chromium (WebGPU on its bundled SwiftShader) runs
  onnxruntime-web's WebGPU execution provider and adaptc's runtime bundle (built from this
  checkout's sources), the same seeded weights and inputs, alternated round by round. The
  browser's own event loop waits; there is nothing to swap. onnxruntime-web takes 10 to 35 s a
  pass there, so ${chromiumRoundsText(report)} (\`BENCH_CHROMIUM=base,fusion8\` narrows the rows).
- **Batch serving**: \`bench/serving/batch3.adapt\`, fused: \`batch(a, b, c)\` with \`adapter_index\`
  routing sequence b to adapter b mod 3, against the same batch through adapter a alone, at
  seq ${report.serving[0]?.seq ?? '-'} (batches of up to 32 sequences of 128 tokens take over half a minute a pass on a
  software rasterizer), ${report.slow_iters} timed rounds after 1 warm-up, alternated.
- **Kernel ceiling**: a short run of \`npm run bench:kernels\`' FFN matmul section (the compiler's
  kernels, the naive one and the register-blocked variants, each checked against the CPU f64
  reference) in the same process; the fastest correct kernel over both FFN matmuls of a layer.

## Latest run

${report.date}, ${report.device.adapter} (${report.device.profile} kernels), load average at start
${report.load_average_at_start.join(', ')}; the whole run took ${(report.wall_s / 60).toFixed(1)} min.

${graphTable(report)}

${peerLines(report).join('\n')}

\`overhead\` = fused / base − 1; \`fusion speedup\` = unfused / fused; \`load ms\` and \`first run ms\`:
the fused model's \`runtime.load\` and its first forward pass, loaded first in its row (kernels of
earlier rows may be in the driver's cache). ${ceiling ? `Best FFN matmul kernel: ${ceiling.kernel}, ${ceiling.gflops.toFixed(1)} GFLOP/s.` : ''}

### Batch serving

${servingTable(report)}

### Training

${trainingText(report)}

### End to end

${endToEndText(report)}

### Targets

${targetTable(report)}

${targetSummary(report.targets)}.

### Why the misses

${missReasons(report)}

Raw figures: \`bench/results/latest.json\`.

\`npm run bench:kernels\` measures the FFN matmul kernels alone (software and gpu profiles against a
naive kernel), dispatches and planned memory per example, and the effect of waiting without
spinning a core.

## GPU profile on real GPUs

No machine with a hardware GPU adapter was at hand for this table: every figure above is from a
software rasterizer. On such a machine run \`npm run bench\`; the adapter's profile picks the
\`gpu\` kernels.

`;
}
