import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  loadBenchModels,
  onnxBenchPrograms,
  type BenchKind,
  type BenchSettings,
} from '../src/cli/bench/measure.js';
import { Runtime } from '../src/runtime/runtime.js';
import { initWeights } from '../src/runtime/weights.js';
import { runCli } from './helpers/cli.js';
import { relativeError } from './helpers/numerics.js';

const dir = mkdtempSync(join(tmpdir(), 'adapt-bench-onnx-'));
const spec = join(dir, 'small.adapt');
const source = `model m { hidden 32 heads 4 ffn 64 layers 3 }
adapter a { bottleneck 8 at ffn }
adapter b { bottleneck 8 at ffn }
adapter c { bottleneck 4 at ffn }
fusion f { adapters a, b, c }
graph default = f
graph routed = batch(a, f)
`;
writeFileSync(spec, source);

const PROVIDER = /onnxruntime-(node cpu|web wasm \(2 threads\))/;
const TOLERANCE = 1e-4;

interface BenchJson {
  device: { backend: string; provider?: string; adapter?: string };
  backend_choice?: string;
  batch: number;
  seq: number;
  layers: number;
  graphs: (Record<string, unknown> & {
    base_ms: number;
    fused_ms: number;
    unfused_ms: number;
    overhead: number;
    fusion_speedup: number;
    gflops: number;
    load_ms: number;
    first_run_ms: number;
    timings: Record<BenchKind, { samples: number[] }>;
  })[];
}

async function benchJson(name: string, args: string[]) {
  const json = join(dir, `${name}.json`);
  const result = await runCli(['bench', spec, '--seq', '8', '--json', json, ...args]);
  return { result, report: JSON.parse(readFileSync(json, 'utf8')) as BenchJson };
}

// No timing is asserted here: times live in benchmarks. These check what the bench reports.
describe('adapt bench --backend onnx', () => {
  it('measures fused, unfused and the base model in ONNX Runtime, naming the provider', async () => {
    const args = ['--backend', 'onnx', '--layers', '2', '--iters', '2', '--warmup', '1'];
    const { result, report } = await benchJson('onnx', args);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const header = result.stdout.split('\n')[1]!;
    expect(header).toMatch(/^ {2}onnx on onnxruntime-/);
    expect(header).toMatch(PROVIDER);
    expect(header).toContain(
      'fused: the graph after its graph-level rewrites, unfused: as lowered',
    );
    expect(result.stdout).toMatch(/^ {2}base model\s+\d+\.\d\s+±\d+\.\d$/m);
    expect(result.stdout).toMatch(/fused\s+\d+\.\d\s+±\d+\.\d\s+overhead [+-]\d+\.\d%/);
    expect(result.stdout).toMatch(/unfused\s+\d+\.\d\s+±\d+\.\d\s+fusion speedup \d+\.\d\dx/);
    expect(result.stdout).not.toContain('dispatches');
    expect(result.stdout).not.toContain('planned activation memory');
    expect(result.stdout).toMatch(/\d+\.\d GFLOP\/s \(fused time, the work as lowered\)/);
    expect(result.stdout).toMatch(/cold start \(fused\): load \d+\.\d ms, first run \d+\.\d ms/);

    expect(report).toMatchObject({ device: { backend: 'onnx' }, batch: 1, seq: 8, layers: 2 });
    expect(report.device.provider).toMatch(PROVIDER);
    expect(report.device.adapter).toBeUndefined();
    const [graph] = report.graphs;
    for (const field of ['dispatches_fused', 'dispatches_unfused', 'dispatches_base'])
      expect(graph).not.toHaveProperty(field);
    expect(graph).not.toHaveProperty('planned_bytes');
    expect(graph!.overhead).toBeCloseTo(graph!.fused_ms / graph!.base_ms - 1, 10);
    expect(graph!.fusion_speedup).toBeCloseTo(graph!.unfused_ms / graph!.fused_ms, 10);
    expect(graph!.timings.fused.samples).toHaveLength(2);
    expect(graph!.timings.base.samples).toHaveLength(2);
    expect(graph!.load_ms).toBeGreaterThan(0);
    expect(graph!.first_run_ms).toBeGreaterThan(0);
    expect(graph!.gflops).toBeGreaterThan(0);
  });

  it('runs a batch(...) graph: the base model gets no adapter_index', async () => {
    const args = ['--backend', 'onnx', '--graph', 'routed', '--batch', '2'];
    const { result } = await benchJson('routed', [...args, '--iters', '1', '--warmup', '0']);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
  });

  it('refuses WebGPU-only options with one error, before any work', async () => {
    const profile = await runCli(['bench', spec, '--backend', 'onnx', '--profile']);
    expect(profile).toEqual({
      code: 1,
      stdout: '',
      stderr: 'adapt: error: --profile applies to WebGPU only, not to --backend onnx\n',
    });
    const args = ['bench', spec, '--backend', 'onnx', '--target', 'gpu', '--timeout', '5'];
    expect(await runCli(args)).toEqual({
      code: 1,
      stdout: '',
      stderr: 'adapt: error: --target, --timeout apply to WebGPU only, not to --backend onnx\n',
    });
  });

  it('auto says in one line when it takes ONNX Runtime over a software rasterizer', async () => {
    const { result, report } = await benchJson('auto', ['--iters', '1', '--warmup', '0']);
    expect(result.code).toBe(0);
    if (report.device.backend === 'onnx') {
      expect(report.backend_choice).toMatch(/is a software rasterizer; running on ONNX Runtime/);
      expect(result.stdout).toContain(`  chosen: ${report.backend_choice}\n`);
    } else {
      expect(report.backend_choice).toBeUndefined();
      expect(result.stdout).not.toContain('chosen:');
    }
  });

  it('each measured model equals the CPU reference on the same weights and inputs', async () => {
    const settings: BenchSettings = {
      graph: 'default',
      batch: 2,
      seq: 5,
      layers: 2,
      iters: 1,
      warmup: 0,
      target: 'software',
    };
    const programs = onnxBenchPrograms(source, spec, settings);
    const weights = initWeights(programs.unfused, 0);
    const onnx = await Runtime.create({ backend: 'onnx' });
    const cpu = await Runtime.create({ backend: 'cpu' });
    try {
      const measured = await loadBenchModels(onnx, programs, settings, weights);
      const { fused, unfused, base } = programs;
      const reference = await loadBenchModels(cpu, { fused, unfused, base }, settings, weights);
      try {
        for (const kind of ['fused', 'unfused', 'base'] as const) {
          const model = measured.models[kind];
          expect(model.backend).toBe('onnx');
          const got = (await model.run(measured.inputs)).hidden_states!.data;
          const expected = (await reference.models[kind].run(measured.inputs)).hidden_states!.data;
          expect(relativeError(got, expected), kind).toBeLessThanOrEqual(TOLERANCE);
        }
      } finally {
        measured.dispose();
        reference.dispose();
      }
    } finally {
      onnx.dispose();
      cpu.dispose();
    }
  });
});
