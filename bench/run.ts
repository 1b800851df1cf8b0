/**
 * `npm run bench`: BERT-base shapes (hidden 768, 12 heads, ffn 3072), batch 1, seq 128, 2 layers.
 * For the base model and each graph in bench/specs: adaptc on WebGPU fused, unfused (--no-fuse)
 * and the base alone, against its fair peers on the same graph's ONNX export with the same weights
 * and inputs, alternated round by round: onnxruntime-node CPU (when installed), onnxruntime-web
 * wasm (2 threads) and onnxruntime-web WebGPU over the same Dawn (waiting as adaptc does), then
 * the same page in headless Chromium running ORT-web WebGPU and adaptc's runtime bundle. Then a
 * short FFN matmul kernel run for the ceiling, batch serving, the profile of each fused graph, the
 * training row (training/step.ts: a WebGPU training step at B=8 against the forward pass, and
 * PyTorch's on the CPU), the end-to-end figures (end-to-end.ts: the onnx backend, seeding, cold
 * start, the README's run line), and the targets met or missed. Writes bench/results/latest.json
 * and the tables in bench/README.md.
 * BENCH_GRAPHS (e.g. `base,fusion8`, or `training`) narrows the rows, for a quick check: such a run
 * writes its JSON to the system's temporary folder and leaves bench/README.md and latest.json
 * alone; one of the training row alone skips batch serving and the kernel ceiling too.
 */
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  benchPrograms,
  benchReport,
  loadBenchModels,
  type BenchSettings,
} from '../src/cli/bench/measure.js';
import { profileGraph } from '../src/cli/bench/profile.js';
import { compile, forwardFlops } from '../src/compiler/index.js';
import { exportOnnx } from '../src/compiler/onnx/export.js';
import { randomInputs } from '../src/runtime/inputs.js';
import { Runtime } from '../src/runtime/runtime.js';
import { GpuDevice } from '../src/runtime/webgpu/device.js';
import { bindWeights, initWeights } from '../src/runtime/weights.js';
import { benchEndToEnd } from './end-to-end.js';
import { measureKernelCeiling } from './kernel-ceiling.js';
import { writeReport } from './kernels/report.js';
import { hasOrtNode, ORT_NODE_HINT } from './onnx-runners.js';
import { benchInChromium, type ChromiumGroup } from './peers/chromium.js';
import { chromiumRounds, selectRows, type ChromiumRounds } from './peers/chromium-rows.js';
import { benchNodeGroup } from './peers/node-group.js';
import { renderReadme, renderTables, type BenchReport, type GraphRow } from './readme.js';
import { benchServing } from './serving/measure.js';
import { SECTION_HEADING } from './text/report.js';
import { evaluateTargets } from './run-targets.js';
import { benchTraining } from './training/step.js';

const BATCH = 1;
/** BENCH_SEQ shortens the sequence, for a quick check that the bench runs end to end. */
const SEQ = Number(process.env.BENCH_SEQ ?? 128);
const ITERS = Number(process.env.BENCH_ITERS ?? 10);
const WARMUP = 2;
/** Chromium and serving passes are several times slower: fewer of them. */
const SLOW_ITERS = Math.min(ITERS, 3);
const CHROMIUM_ITERS = Math.min(ITERS, 2);
const SERVING_BATCHES = [8, 32];
const SERVING_SEQ = Math.min(32, SEQ);
/** What one row may take in Chromium (ORT-web's fusion8 pass there takes about 32 s). */
const CHROMIUM_ROW_TIMEOUT_MS = 240_000;
const root = new URL('../../', import.meta.url);
const specsDir = new URL('bench/specs/', root);
const ORDER = ['pfeiffer', 'houlsby', 'parallel', 'fusion3', 'fusion8'];
/** The training row: B=8, T=128 (bench/specs-training/pfeiffer-train.adapt). */
const TRAINING_ROW = 'training';
const TRAINING_BATCH = 8;
const TRAINING_SEQ = SEQ;
const ALL_ROWS = ['base', ...ORDER, TRAINING_ROW];
/** The rows measured (BENCH_GRAPHS, default all); the graph rows of them run in Chromium too. */
const ROWS = selectRows(process.env.BENCH_GRAPHS, ALL_ROWS);
const GRAPH_ROWS = ROWS.filter((row) => row !== TRAINING_ROW);
const CHROMIUM_ROWS = selectRows(process.env.BENCH_CHROMIUM, GRAPH_ROWS);
const PARTIAL = ROWS.length < ALL_ROWS.length;
/** How a peer ran where BENCH_GRAPHS chose the training row alone. */
const NO_GRAPH_ROW = 'not run (no graph row chosen by BENCH_GRAPHS)';

const log = (line: string) => process.stderr.write(`${line}\n`);

/** The graph (or its bare base model) unfused for export, with the same weights as adaptc's. */
function exportFor(
  source: string,
  file: string,
  base: boolean,
  weights: ReturnType<typeof initWeights>,
) {
  const result = compile(source, { fileName: file, fuse: false, benchmark: { base } });
  return exportOnnx(result.ir!, bindWeights(result.program!, weights).tensors, {
    fileName: file,
    graph: 'default',
  });
}

async function main(): Promise<void> {
  const started = performance.now();
  const files = readdirSync(specsDir)
    .filter((f) => f.endsWith('.adapt'))
    .sort(
      (a, b) => ORDER.indexOf(a.replace('.adapt', '')) - ORDER.indexOf(b.replace('.adapt', '')),
    );
  const loadAtStart = loadavg().map((x) => Number(x.toFixed(2)));
  const runtime = await Runtime.create({ backend: 'webgpu' });
  const adapter = runtime.adapter!;
  const target = adapter.profile;
  const settings: BenchSettings = {
    graph: 'default',
    batch: BATCH,
    seq: SEQ,
    iters: ITERS,
    warmup: WARMUP,
    target,
  };
  const rounds = { warmup: WARMUP, iters: ITERS };
  const ortNode = await hasOrtNode();
  log(`headless Chromium: ORT-web WebGPU and adaptc on one page (${CHROMIUM_ROWS.join(', ')})…`);
  const chromiumGroups: ChromiumGroup[] = [];
  const roundsIn: Record<string, ChromiumRounds> = {};
  for (const [i, file] of files.entries()) {
    const spec = file.replace('.adapt', '');
    const source = readFileSync(new URL(file, specsDir), 'utf8');
    const runsBase = i === 0 && CHROMIUM_ROWS.includes('base');
    if (!CHROMIUM_ROWS.includes(spec) && !runsBase) continue;
    const weights = initWeights(benchPrograms(source, file, settings).unfused, 0);
    const group = (name: string, base: boolean) => {
      const rounds = chromiumRounds(name, CHROMIUM_ITERS);
      roundsIn[name] = rounds;
      const onnx = exportFor(source, file, base, weights);
      chromiumGroups.push({ name, source, fileName: file, base, onnx, rounds });
    };
    if (runsBase) group('base', true);
    if (CHROMIUM_ROWS.includes(spec)) group(spec, false);
  }
  const chromiumStart = performance.now();
  const chromium = await benchInChromium(chromiumGroups, {
    batch: BATCH,
    seq: SEQ,
    timeoutMs: CHROMIUM_ROW_TIMEOUT_MS * chromiumGroups.length,
  });
  const chromiumS = ((performance.now() - chromiumStart) / 1000).toFixed(0);
  log(`Chromium: ${chromium.ok ? 'done' : chromium.reason} (${chromiumS} s)`);
  chromiumGroups.length = 0;

  const rows: GraphRow[] = [];
  const providers: Record<string, string> = {};

  for (const [i, file] of files.entries()) {
    const spec = file.replace('.adapt', '');
    const source = readFileSync(new URL(file, specsDir), 'utf8');
    const programs = benchPrograms(source, file, settings);
    const weights = initWeights(programs.unfused, 0);
    if (i === 0 && ROWS.includes('base')) {
      // The bare base model, against the peers on its own export.
      log(`base (of ${file}): adaptc and its peers…`);
      const onnx = exportFor(source, file, true, weights);
      const model = await runtime.load(programs.base, weights);
      try {
        const inputs = randomInputs(programs.base, BATCH, SEQ, 1);
        const result = await benchNodeGroup({ base: model }, inputs, onnx, rounds);
        Object.assign(providers, result.providers);
        const ms = result.adaptc.base.median;
        rows.push({
          spec: 'base',
          base_ms: ms,
          fused_ms: ms,
          unfused_ms: null,
          overhead: null,
          fusion_speedup: null,
          dispatches_fused: programs.base.gpu!.dispatches.length,
          dispatches_unfused: null,
          gflops: forwardFlops(programs.base.nodes, BATCH, SEQ) / (ms * 1e6),
          load_ms: null,
          first_run_ms: null,
          ort_node_ms: result.peers.ort_node?.median ?? null,
          ort_wasm_ms: result.peers.ort_wasm!.median,
          ort_webgpu_ms: result.peers.ort_webgpu!.median,
          chromium_adaptc_ms: null,
          chromium_ort_webgpu_ms: null,
          profile: null,
        });
      } finally {
        model.dispose();
      }
    }
    if (!ROWS.includes(spec)) continue;
    log(`${file}: adaptc fused, unfused, base and its peers…`);
    const onnx = exportFor(source, file, false, weights);
    const loaded = await loadBenchModels(runtime, programs, settings, weights);
    try {
      const result = await benchNodeGroup(loaded.models, loaded.inputs, onnx, rounds);
      Object.assign(providers, result.providers);
      const ours = benchReport(settings, programs, result.adaptc, loaded);
      log(`${file}: profile of the fused pass…`);
      const profile = await profileGraph(runtime, source, file, settings);
      rows.push({
        spec,
        base_ms: ours.base_ms,
        fused_ms: ours.fused_ms,
        unfused_ms: ours.unfused_ms,
        overhead: ours.overhead,
        fusion_speedup: ours.fusion_speedup,
        dispatches_fused: ours.dispatches_fused!,
        dispatches_unfused: ours.dispatches_unfused!,
        gflops: ours.gflops,
        load_ms: ours.load_ms,
        first_run_ms: ours.first_run_ms,
        ort_node_ms: result.peers.ort_node?.median ?? null,
        ort_wasm_ms: result.peers.ort_wasm!.median,
        ort_webgpu_ms: result.peers.ort_webgpu!.median,
        chromium_adaptc_ms: null,
        chromium_ort_webgpu_ms: null,
        profile: {
          method: profile.method,
          total_ms: profile.total_ms,
          groups: profile.groups,
          ffn_gflops: ffnGflops(profile.dispatches),
        },
      });
    } finally {
      loaded.dispose();
    }
  }

  const serving = GRAPH_ROWS.length === 0 ? [] : await servingSection(runtime, target);

  const training = ROWS.includes(TRAINING_ROW)
    ? await benchTraining(
        runtime,
        {
          batch: TRAINING_BATCH,
          seq: TRAINING_SEQ,
          warmup: 1,
          iters: SLOW_ITERS,
          target,
          threads: availableParallelism(),
          // PyTorch's CPU step takes tens of seconds here (Debian's torch has the generic BLAS).
          torchWarmup: 0,
          torchRounds: 1,
        },
        log,
      )
    : null;
  runtime.dispose();

  let ceiling: Awaited<ReturnType<typeof measureKernelCeiling>> | undefined;
  if (GRAPH_ROWS.length > 0) {
    log('FFN matmul kernels (short run of bench:kernels)…');
    const gpu = await GpuDevice.create();
    ceiling = await measureKernelCeiling(gpu.device, 3).finally(() => gpu.dispose());
  }
  const endToEnd = PARTIAL ? null : await benchEndToEnd({ iters: ITERS, seq: SEQ }, log);

  if (chromium.ok) {
    for (const group of chromium.groups) {
      const row = rows.find((r) => r.spec === group.name)!;
      Object.assign(row, {
        chromium_adaptc_ms: group.adaptc.median,
        chromium_ort_webgpu_ms: group.ort.median,
      });
    }
  }

  const report: BenchReport = {
    date: new Date().toISOString(),
    command: 'npm run bench',
    device: {
      backend: 'webgpu',
      adapter: adapter.description || adapter.architecture,
      profile: target,
    },
    load_average_at_start: loadAtStart,
    batch: BATCH,
    seq: SEQ,
    layers: 2,
    iters: ITERS,
    warmup: WARMUP,
    slow_iters: SLOW_ITERS,
    chromium_iters: CHROMIUM_ITERS,
    chromium_rows: CHROMIUM_ROWS,
    chromium_rounds: roundsIn,
    peers: {
      ort_node: providers.ort_node ?? ORT_NODE_HINT,
      ort_wasm: providers.ort_wasm ?? NO_GRAPH_ROW,
      ort_webgpu: providers.ort_webgpu ?? NO_GRAPH_ROW,
      chromium: chromium.ok
        ? `${chromium.browser}, WebGPU on ${chromium.adapter} (${chromium.profile} kernels for adaptc)`
        : `not run: ${chromium.reason}`,
    },
    ort_node_installed: ortNode,
    graphs: rows,
    chromium: chromium.ok
      ? chromium.groups.map(({ adaptc, ort, ...g }) => ({
          ...g,
          adaptc: { ...adaptc, samples: [...adaptc.samples] },
          ort: { ...ort, samples: [...ort.samples] },
        }))
      : { error: chromium.reason },
    kernel_ceiling: ceiling ?? null,
    serving: serving.map(({ timings: _timings, ...s }) => s),
    training,
    end_to_end: endToEnd,
    targets: [],
    wall_s: 0,
  };
  report.targets = evaluateTargets(report);
  report.wall_s = (performance.now() - started) / 1000;

  if (PARTIAL) {
    const partial = join(tmpdir(), 'adaptc-bench-partial.json');
    await writeReport(partial, report);
    process.stdout.write(
      `${renderTables(report)}\n\nwrote ${partial} (rows ${ROWS.join(', ')}, ${report.wall_s.toFixed(0)} s)\n`,
    );
    return;
  }
  await writeReport(fileURLToPath(new URL('bench/results/latest.json', root)), report);
  // The other benchmarks' sections (from `npm run bench:text`'s heading on) stay as they were.
  const readmeFile = fileURLToPath(new URL('bench/README.md', root));
  const previous = readFileSync(readmeFile, 'utf8');
  const kept = previous.indexOf(`\n${SECTION_HEADING}\n`);
  const readme = renderReadme(report);
  writeFileSync(
    readmeFile,
    await formatMarkdown(readmeFile, kept < 0 ? readme : `${readme}${previous.slice(kept)}`),
  );
  process.stdout.write(
    `${renderTables(report)}\n\nwrote bench/results/latest.json, bench/README.md (${report.wall_s.toFixed(0)} s)\n`,
  );
}

async function servingSection(runtime: Runtime, target: BenchSettings['target']) {
  log(`batch serving at B = ${SERVING_BATCHES.join(', ')}, T = ${SERVING_SEQ}…`);
  return benchServing(runtime, {
    batches: SERVING_BATCHES,
    seq: SERVING_SEQ,
    warmup: 1,
    iters: SLOW_ITERS,
    target,
  });
}

/** The README as the repository's Prettier formats Markdown, so `format:check` stays clean. */
async function formatMarkdown(file: string, text: string): Promise<string> {
  const prettier = await import('prettier');
  const config = (await prettier.resolveConfig(file)) ?? {};
  return prettier.format(text, { ...config, parser: 'markdown' });
}

/** GFLOP/s of the base model's FFN matmuls inside the fused pass (timestamp queries). */
function ffnGflops(dispatches: Awaited<ReturnType<typeof profileGraph>>['dispatches']): number {
  const ffn = dispatches.filter(
    (d) => d.op === 'linear' && d.scope?.site === 'ffn' && d.scope.kind === 'base',
  );
  return ffn.reduce((n, d) => n + d.flops, 0) / (ffn.reduce((n, d) => n + d.ms, 0) * 1e6);
}

await main();
