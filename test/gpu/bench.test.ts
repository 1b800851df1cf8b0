import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect } from 'vitest';
import { gpuIt } from '../helpers/gpu.js';
import { runCli } from '../helpers/cli.js';

const dir = mkdtempSync(join(tmpdir(), 'adapt-bench-'));
const spec = join(dir, 'small.adapt');
writeFileSync(
  spec,
  `model m { hidden 64 heads 4 ffn 256 layers 4 }
adapter a { bottleneck 16 at ffn }
adapter b { bottleneck 16 at ffn }
adapter c { bottleneck 8 at ffn }
fusion f { adapters a, b, c }
graph default = f
graph pfeiffer = a
graph routed = batch(a, f)
`,
);

// No timing is asserted here: times live in benchmarks. These check what the bench reports.
describe('adapt bench', () => {
  gpuIt(
    'reports base, fused and unfused runs, dispatches, memory and work, as text and JSON',
    async () => {
      const json = join(dir, 'bench.json');
      const result = await runCli([
        'bench',
        spec,
        '--backend',
        'webgpu',
        '--layers',
        '2',
        '--seq',
        '8',
        '--iters',
        '2',
        '--warmup',
        '1',
        '--json',
        json,
      ]);
      expect(result.stderr).toBe('');
      expect(result.code).toBe(0);
      expect(result.stdout).toMatch(/base model\s+\d+\.\d\s+±\d+\.\d\s+\d+/);
      expect(result.stdout).toMatch(/overhead [+-]\d+\.\d%/);
      expect(result.stdout).toMatch(/fusion speedup \d+\.\d\dx/);
      const report = JSON.parse(readFileSync(json, 'utf8')) as {
        device: { backend: string; adapter: string; profile: string };
        batch: number;
        seq: number;
        layers: number;
        graphs: {
          graph: string;
          base_ms: number;
          fused_ms: number;
          unfused_ms: number;
          overhead: number;
          fusion_speedup: number;
          dispatches_fused: number;
          dispatches_unfused: number;
          dispatches_base: number;
          gflops: number;
          planned_bytes: number;
          timings: { fused: { samples: number[] } };
        }[];
      };
      expect(report).toMatchObject({ device: { backend: 'webgpu' }, batch: 1, seq: 8, layers: 2 });
      const [graph] = report.graphs;
      expect(graph!.graph).toBe('default');
      expect(graph!.overhead).toBeCloseTo(graph!.fused_ms / graph!.base_ms - 1, 10);
      expect(graph!.fusion_speedup).toBeCloseTo(graph!.unfused_ms / graph!.fused_ms, 10);
      // 2 layers: the base alone, the fused graph (a fusion per layer), one kernel per op.
      expect(graph!.dispatches_base).toBeLessThan(graph!.dispatches_fused);
      expect(graph!.dispatches_fused).toBeLessThan(graph!.dispatches_unfused);
      expect(graph!.timings.fused.samples).toHaveLength(2);
      expect(graph!.gflops).toBeGreaterThan(0);
      expect(graph!.planned_bytes).toBeGreaterThan(0);
    },
  );

  gpuIt('lists the time per kernel group with --profile', async () => {
    const result = await runCli([
      'bench',
      spec,
      '--graph',
      'pfeiffer',
      '--seq',
      '8',
      '--iters',
      '1',
      '--warmup',
      '0',
      '--profile',
    ]);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(
      /time per kernel group \((timestamp-query|one dispatch at a time)\)/,
    );
    expect(result.stdout).toMatch(/bottleneck · adapter\s+4\s+\d+\.\d\d\s+\d+\.\d%/);
    expect(result.stdout).toMatch(/attention · base\s+4\s/);
  });

  gpuIt('measures a batch(...) graph: the bare base model gets no adapter_index', async () => {
    const args = ['bench', spec, '--backend', 'webgpu', '--graph', 'routed', '--batch', '2'];
    const result = await runCli([...args, '--seq', '4', '--iters', '1', '--warmup', '0']);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/base model\s+\d+\.\d+\s+±\d+\.\d+\s+\d+/);
    expect(result.stdout).toMatch(/fused\s+\d+\.\d+\s+±\d+\.\d+\s+\d+\s+overhead/);
  });
});
