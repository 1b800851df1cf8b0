/**
 * `npm run bench`: BERT-base shapes (hidden 768, 12 heads, ffn 3072), batch 1, seq 128, 2 layers.
 * For each graph in bench/specs: adaptc on WebGPU fused, unfused (--no-fuse) and the base alone,
 * and the same weights exported to ONNX in ONNX Runtime on the CPU (onnxruntime-node when
 * installed, else onnxruntime-web's wasm) and onnxruntime-web (WebGPU over the same Dawn). Writes
 * bench/results/latest.json and the table in bench/README.md.
 */
import { readFileSync, readdirSync, writeFileSync, mkdirSync } from 'node:fs';
import { SECTION_HEADING } from './text/report.js';
import { benchGraph, type GraphBench } from '../src/cli/bench/measure.js';
import { profileGraph } from '../src/cli/bench/profile.js';
import { compile } from '../src/compiler/index.js';
import { exportOnnx } from '../src/compiler/onnx/export.js';
import { normalArray } from '../src/runtime/random.js';
import { Runtime } from '../src/runtime/runtime.js';
import { bindWeights, initWeights } from '../src/runtime/weights.js';
import { WASM_CPU_THREADS, timeOrtCpu, timeOrtWebGpu, type OnnxFeeds } from './onnx-runners.js';

const BATCH = 1;
const SEQ = 128;
const ITERS = Number(process.env.BENCH_ITERS ?? 10);
const WARMUP = 2;
const root = new URL('../../', import.meta.url);
const specsDir = new URL('bench/specs/', root);
const ORDER = ['pfeiffer', 'houlsby', 'parallel', 'fusion3', 'fusion8'];

interface OnnxResult {
  readonly ort_cpu_ms: number;
  /** Which ONNX Runtime ran on the CPU: onnxruntime-node, or onnxruntime-web's wasm without it. */
  readonly ort_cpu_provider: string;
  readonly ort_webgpu_ms: number;
  readonly ort_webgpu_base_ms: number;
}

/** The graph and its base model exported to ONNX with the same weights, timed in both ORTs. */
async function onnxTimes(source: string, file: string): Promise<OnnxResult> {
  const unfused = compile(source, { fileName: file, fuse: false });
  const base = compile(source, { fileName: file, fuse: false, benchmark: { base: true } });
  const weights = initWeights(unfused.program!, 0);
  const d = unfused.program!.model.hidden;
  const feeds: OnnxFeeds = {
    hidden_states: normalArray(BATCH * SEQ * d, 1),
    attention_mask: new Int32Array(BATCH * SEQ).fill(1),
    batch: BATCH,
    seq: SEQ,
    hidden: d,
  };
  const bytes = (result: typeof unfused) =>
    exportOnnx(result.ir!, bindWeights(result.program!, weights).tensors, {
      fileName: file,
      graph: 'default',
    });
  const cpu = await timeOrtCpu(bytes(unfused), feeds, WARMUP, ITERS);
  const gpu = await timeOrtWebGpu(bytes(unfused), feeds, WARMUP, ITERS);
  const gpuBase = await timeOrtWebGpu(bytes(base), feeds, WARMUP, ITERS);
  return {
    ort_cpu_ms: cpu.median,
    ort_cpu_provider: cpu.provider,
    ort_webgpu_ms: gpu.median,
    ort_webgpu_base_ms: gpuBase.median,
  };
}

const fmt = (ms: number) => ms.toFixed(1);
const pct = (x: number) => `${x >= 0 ? '+' : ''}${(100 * x).toFixed(1)}%`;

async function main(): Promise<void> {
  const files = readdirSync(specsDir)
    .filter((f) => f.endsWith('.adapt'))
    .sort(
      (a, b) => ORDER.indexOf(a.replace('.adapt', '')) - ORDER.indexOf(b.replace('.adapt', '')),
    );
  const runtime = await Runtime.create({ backend: 'webgpu' });
  const adapter = runtime.adapter!;
  const target = adapter.profile;
  const rows: (GraphBench & OnnxResult & { spec: string })[] = [];
  let ffnGflops = 0;
  for (const file of files) {
    const source = readFileSync(new URL(file, specsDir), 'utf8');
    const settings = {
      graph: 'default',
      batch: BATCH,
      seq: SEQ,
      iters: ITERS,
      warmup: WARMUP,
      target,
    };
    process.stderr.write(`${file}: adaptc on WebGPU…\n`);
    const ours = await benchGraph(runtime, source, file, settings);
    process.stderr.write(`${file}: onnxruntime…\n`);
    const onnx = await onnxTimes(source, file);
    rows.push({ spec: file.replace('.adapt', ''), ...ours, ...onnx });
    if (file === 'pfeiffer.adapt') {
      const profile = await profileGraph(runtime, source, file, settings);
      const ffn = profile.dispatches.filter(
        (d) => d.op === 'linear' && d.scope?.site === 'ffn' && d.scope.kind === 'base',
      );
      ffnGflops = ffn.reduce((n, d) => n + d.flops, 0) / (ffn.reduce((n, d) => n + d.ms, 0) * 1e6);
    }
  }
  runtime.dispose();

  const device = {
    backend: 'webgpu',
    adapter: adapter.description || adapter.architecture,
    profile: target,
  };
  const report = {
    date: new Date().toISOString(),
    command: 'npm run bench',
    device,
    batch: BATCH,
    seq: SEQ,
    layers: 2,
    iters: ITERS,
    ffn_gflops: ffnGflops,
    graphs: rows.map(({ timings: _timings, ...row }) => ({
      ...row,
      vs_ort_webgpu: row.ort_webgpu_ms / row.fused_ms,
    })),
  };
  mkdirSync(new URL('bench/results/', root), { recursive: true });
  writeFileSync(new URL('bench/results/latest.json', root), `${JSON.stringify(report, null, 2)}\n`);

  const cpuProviders = [...new Set(rows.map((r) => r.ort_cpu_provider))].join('; ');
  const table = [
    '| graph | base ms | fused ms | unfused ms | overhead | fusion speedup | dispatches fused / unfused | ORT CPU ms | ORT WebGPU ms (base) | adaptc vs ORT WebGPU |',
    '| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |',
    ...rows.map(
      (r) =>
        `| ${r.spec} | ${fmt(r.base_ms)} | ${fmt(r.fused_ms)} | ${fmt(r.unfused_ms)} | ${pct(r.overhead)} | ${r.fusion_speedup.toFixed(2)}x | ${r.dispatches_fused} / ${r.dispatches_unfused} | ${fmt(r.ort_cpu_ms)} | ${fmt(r.ort_webgpu_ms)} (${fmt(r.ort_webgpu_base_ms)}) | ${(r.ort_webgpu_ms / r.fused_ms).toFixed(2)}x faster |`,
    ),
  ].join('\n');
  const readme = `# Benchmarks

\`npm run bench\` measures adapter graphs at BERT-base shapes (hidden 768, 12 heads, ffn 3072),
batch ${BATCH}, seq ${SEQ}, 2 layers (specs in \`bench/specs/\`), each the median of ${ITERS} runs after
${WARMUP} warm-up runs, the variants interleaved round by round: adaptc on WebGPU fused, unfused
(\`--no-fuse\`) and the bare base model with the same weights; the same weights exported with
\`adapt export\` and run in ONNX Runtime on the CPU and in onnxruntime-web's WebGPU execution
provider over the same Dawn. ONNX Runtime on the CPU is onnxruntime-node when it is installed
(optional, not in package.json: \`npm ci\` leaves it out), else onnxruntime-web's wasm execution
provider with ${WASM_CPU_THREADS} threads; the line under the table says which ran. Times include
reading the output back. The machine is shared and noisy: compare ratios within one run, not
absolute times across runs.

\`npm run bench:kernels\` measures the FFN matmul kernels alone (software and gpu profiles against a
naive kernel), dispatches and planned memory per example, and the effect of waiting without
spinning a core.

## Latest run

${report.date}, ${device.adapter} (${target} kernels). FFN matmuls in the fused Pfeiffer graph:
${ffnGflops.toFixed(1)} GFLOP/s (timestamp queries).

${table}

ORT CPU: ${cpuProviders}.

\`overhead\` = fused / base − 1; \`fusion speedup\` = unfused / fused. Raw figures:
\`bench/results/latest.json\`.
`;
  // The other benchmarks' sections (from `npm run bench:text`'s heading on) stay as they were.
  const readmeUrl = new URL('bench/README.md', root);
  const previous = readFileSync(readmeUrl, 'utf8');
  const kept = previous.indexOf(`\n${SECTION_HEADING}\n`);
  writeFileSync(readmeUrl, kept < 0 ? readme : `${readme}${previous.slice(kept)}`);
  process.stdout.write(
    `${table}\n\nORT CPU: ${cpuProviders}\nFFN matmuls: ${ffnGflops.toFixed(1)} GFLOP/s\nwrote bench/results/latest.json, bench/README.md\n`,
  );
}

await main();
