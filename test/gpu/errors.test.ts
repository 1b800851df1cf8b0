import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, expect } from 'vitest';
import { compile } from '../../src/compiler/index.js';
import { AdaptRuntimeError } from '../../src/runtime/errors.js';
import { DAWN_ADAPTER_WARNING } from '../../src/runtime/webgpu/acquire.js';
import { initWeights } from '../../src/runtime/weights.js';
import { gpuIt, gpuRuntime } from '../helpers/gpu.js';

const SPEC = 'model m { hidden 8 heads 2 ffn 16 layers 1 }\nadapter a { bottleneck 2 at ffn }\n';

describe('GPU errors are reported clearly', () => {
  gpuIt('a kernel that does not compile names the kernel and the WGSL error', async () => {
    const program = compile(SPEC).program!;
    const kernels = program.gpu!.kernels.map((k, i) =>
      i === 0 ? { ...k, wgsl: k.wgsl.replace('let group', 'let group: bogus') } : k,
    );
    const rt = await gpuRuntime();
    try {
      const error = await rt
        .load({ ...program, gpu: { ...program.gpu!, kernels } }, initWeights(program, 1))
        .catch((e: unknown) => e);
      expect(error).toBeInstanceOf(AdaptRuntimeError);
      expect((error as Error).message).toMatch(
        new RegExp(`kernel '${program.gpu!.kernels[0]!.name}' failed to build: .*bogus`),
      );
    } finally {
      rt.dispose();
    }
  });

  gpuIt(
    'a dispatch that reads and writes one buffer is a validation error of the run',
    async () => {
      const program = compile(SPEC).program!;
      const dispatches = program.gpu!.dispatches.map((d, i) => {
        if (i !== 0) return d;
        const input = d.args.find((arg) => arg.kind === 'buffer')!;
        return { ...d, args: [...d.args.slice(0, -1), input] };
      });
      const rt = await gpuRuntime();
      try {
        const model = await rt.load(
          { ...program, gpu: { ...program.gpu!, dispatches } },
          initWeights(program, 1),
        );
        const run = model.run({
          hidden_states: { data: new Float32Array(16).fill(0.5), shape: [1, 2, 8] },
        });
        await expect(run).rejects.toThrow(AdaptRuntimeError);
        await expect(run).rejects.toThrow(/^GPU validation error while running the program: /);
      } finally {
        rt.dispose();
      }
    },
  );
});

describe('what Dawn prints by itself', () => {
  gpuIt(
    'opening an adapter writes nothing to stderr but the lines DAWN_ADAPTER_WARNING matches',
    async () => {
      const script =
        "const { create } = await import('webgpu'); await create([]).requestAdapter(); process.exit(0);";
      const { stderr } = await promisify(execFile)(
        process.execPath,
        ['--input-type=module', '-e', script],
        { env: { ...process.env, XDG_RUNTIME_DIR: process.env.XDG_RUNTIME_DIR ?? '/tmp' } },
      );
      const lines = stderr.split('\n').filter((line) => line !== '');
      expect(lines.filter((line) => !DAWN_ADAPTER_WARNING.test(line))).toEqual([]);
    },
  );
});
