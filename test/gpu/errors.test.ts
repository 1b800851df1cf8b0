import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, expect } from 'vitest';
import { compile } from '../../src/compiler/index.js';
import { AdaptRuntimeError, ProgramError, ResourceError } from '../../src/runtime/errors.js';
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

describe('runs this device cannot do are refused before anything is queued', () => {
  gpuIt('a grid past every buffer it binds is a ProgramError at load', async () => {
    const program = compile(SPEC).program!;
    const dispatches = program.gpu!.dispatches.map((d, i) =>
      i === 0 ? { ...d, groups: { perToken: 0, perSequence: 0, fixed: 1e9, divide: 1 } } : d,
    );
    const rt = await gpuRuntime();
    try {
      await expect(
        rt.load({ ...program, gpu: { ...program.gpu!, dispatches } }, initWeights(program, 1)),
      ).rejects.toThrow(ProgramError);
    } finally {
      rt.dispose();
    }
  });

  gpuIt(
    'an activation buffer past the binding limit is a ResourceError; the model still runs',
    async () => {
      const program = compile(SPEC).program!;
      const rt = await gpuRuntime();
      try {
        const model = await rt.load(program, initWeights(program, 1));
        const { limits } = (rt as unknown as { device: { device: GPUDevice } }).device.device;
        const limit = Math.min(limits.maxStorageBufferBindingSize, limits.maxBufferSize);
        const perToken = Math.max(...program.gpu!.buffers.map((b) => (4 * b.perToken) / b.divide));
        // The shortest sequence whose largest buffer is past the limit (lavapipe: 128 MiB).
        const seq = Math.floor(limit / perToken) + 1;
        if (seq * 8 * 4 > 2 ** 29) return; // a device that binds gigabytes: too large an input here
        const run = model.run({
          hidden_states: { data: new Float32Array(seq * 8), shape: [1, seq, 8] },
        });
        await expect(run).rejects.toThrow(ResourceError);
        await expect(run).rejects.toThrow(
          /^graph 'default' at batch 1, seq \d+: activation buffer \d+ needs [\d.]+ MiB; this GPU binds at most [\d.]+ [MG]iB per buffer$/,
        );
        const small = await model.run({
          hidden_states: { data: new Float32Array(16).fill(0.5), shape: [1, 2, 8] },
        });
        expect(small.hidden_states.data.every(Number.isFinite)).toBe(true);
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
