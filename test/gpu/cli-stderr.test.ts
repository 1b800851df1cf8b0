import { describe, expect, it } from 'vitest';
import { opensGpu } from '../../src/cli/gpu-stderr.js';
import { spawnCli } from '../helpers/cli.js';
import { gpuIt } from '../helpers/gpu.js';

describe('the CLI keeps Dawn limit warnings off stderr', () => {
  it('runs only the commands that may open a GPU under the filter', () => {
    expect(opensGpu(['run', 'x.adapt'])).toBe(true);
    expect(opensGpu(['bench', 'x.adapt', '--backend', 'webgpu'])).toBe(true);
    expect(opensGpu(['run', 'x.adapt', '--backend', 'cpu'])).toBe(false);
    expect(opensGpu(['run', 'x.adapt', '--backend=cpu'])).toBe(false);
    expect(opensGpu(['check', 'x.adapt'])).toBe(false);
    expect(opensGpu(['export', 'x.adapt', '--onnx', 'y.onnx'])).toBe(false);
  });

  gpuIt('a WebGPU run prints its summary and nothing from Dawn', async () => {
    const result = spawnCli(['run', 'examples/worked-example.adapt', '--backend', 'webgpu']);
    expect(result.stderr).not.toMatch(/artificially reduced/);
    expect(result.stdout).toMatch(/backend\s+webgpu/);
    expect(result.code).toBe(0);
  });

  gpuIt('errors and exit codes pass through the filter unchanged', async () => {
    const missing = spawnCli(['run', 'examples/no-such.adapt']);
    expect(missing.stderr).toBe('examples/no-such.adapt: error: cannot read file (no such file)\n');
    expect(missing.code).toBe(1);
    const usage = spawnCli(['run', 'examples/worked-example.adapt', '--seed', '4294967296']);
    expect(usage.stderr).toMatch(/out of range: expected 0\.\.4294967295/);
    expect(usage.code).toBe(2);
  });
});
