import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runExport } from '../src/cli/commands/export.js';
import type { CliIO } from '../src/cli/io.js';
import { compile } from '../src/compiler/index.js';
import { exportOnnx } from '../src/compiler/onnx/index.js';
import { decodeModel } from '../src/compiler/onnx/proto.js';
import type { RunInputs } from '../src/runtime/inputs.js';
import { onnxInsteadOf } from '../src/runtime/onnx/auto.js';
import { normalArray } from '../src/runtime/random.js';
import { Runtime } from '../src/runtime/runtime.js';
import { loadSafetensors, type TensorMap } from '../src/runtime/safetensors.js';
import type { Program } from '../src/runtime/program.js';
import type { AdapterDescription } from '../src/runtime/webgpu/acquire.js';
import { bindWeights } from '../src/runtime/weights.js';
import { runCli } from './helpers/cli.js';
import { relativeError } from './helpers/numerics.js';

const TORCH = 'test/fixtures/torch';
const TOLERANCE = 1e-4;

function fixtureWeights(name: string): TensorMap {
  const path = join(TORCH, `${name}.weights.safetensors`);
  return loadSafetensors(readFileSync(path), path);
}

/** A fixture's weights under the program's names, as the runtime binds them. */
const boundWeights = (name: string, program: Program) =>
  bindWeights(program, fixtureWeights(name)).tensors;

function compiled(name: string) {
  const fileName = join(TORCH, `${name}.adapt`);
  const result = compile(readFileSync(fileName, 'utf8'), { fileName, fuse: false, gpu: false });
  expect(result.diagnostics).toEqual([]);
  return { fileName, ir: result.ir!, program: result.program! };
}

/** Fresh N(0, 1) hidden states, the last two positions of the second sequence padded. */
function randomInputs(hidden: number, seed: number): RunInputs {
  const [batch, seq] = [2, 7];
  const mask = Int32Array.from({ length: batch * seq }, (_, i) => (i >= 2 * seq - 2 ? 0 : 1));
  return {
    hidden_states: { data: normalArray(batch * seq * hidden, seed), shape: [batch, seq, hidden] },
    attention_mask: { data: mask, shape: [batch, seq] },
  };
}

async function runOn(
  backend: 'cpu' | 'onnx',
  name: string,
  inputs: RunInputs,
  optimize: boolean,
): Promise<Float32Array> {
  const { fileName, ir, program } = compiled(name);
  const runtime = await Runtime.create({ backend });
  try {
    const onnx = (weights: ReadonlyMap<string, Float32Array>) =>
      exportOnnx(ir, weights, { fileName, graph: 'default', optimize });
    const model = await runtime.load(program, fixtureWeights(name), { onnx });
    expect(model.backend).toBe(backend);
    return (await model.run(inputs)).hidden_states.data;
  } finally {
    runtime.dispose();
  }
}

const matmuls = (bytes: Uint8Array) =>
  decodeModel(bytes).graph!.node!.filter((node) => node.opType === 'MatMul').length;

/**
 * The MatMuls of a model that read a graph input, directly or not: those a forward pass runs.
 * The others read initializers only, and ONNX Runtime folds them into constants at load.
 */
function perPassMatmuls(bytes: Uint8Array): number {
  const graph = decodeModel(bytes).graph!;
  const fromInputs = new Set(graph.input!.map((input) => input.name!));
  let count = 0;
  for (const node of graph.node!) {
    if (!node.input!.some((name) => fromInputs.has(name))) continue;
    for (const output of node.output!) fromInputs.add(output);
    if (node.opType === 'MatMul') count++;
  }
  return count;
}

describe('the onnx backend', () => {
  for (const name of ['postln_pfeiffer', 'postln_houlsby', 'fusion_default']) {
    it(`${name}: equals the CPU reference on fresh random inputs`, async () => {
      const inputs = randomInputs(compiled(name).program.model.hidden, 41);
      const reference = await runOn('cpu', name, inputs, false);
      for (const optimize of [false, true]) {
        const onnx = await runOn('onnx', name, inputs, optimize);
        expect(relativeError(onnx, reference)).toBeLessThanOrEqual(TOLERANCE);
      }
    });
  }

  it('runs a fusion after the fusion algebra and the query fold: fewer matmuls per pass', () => {
    const { fileName, ir, program } = compiled('fusion_default');
    const weights = boundWeights('fusion_default', program);
    const plain = exportOnnx(ir, weights, { fileName, graph: 'default' });
    const optimized = exportOnnx(ir, weights, { fileName, graph: 'default', optimize: true });
    const { layers } = program.model;
    // Per layer, three adapters: W_Q once, W_K and W_V three times each (7) become M = W_Kᵀ·W_Q
    // and W_V once (2); M and c = W_Kᵀ·b_Q are MatMuls of initializers, folded at load.
    expect(perPassMatmuls(plain)).toBe(matmuls(plain));
    expect(perPassMatmuls(plain) - perPassMatmuls(optimized)).toBe(5 * layers);
    expect(matmuls(optimized) - perPassMatmuls(optimized)).toBe(2 * layers);
  });

  it('runs a checkpoint fusion graph from token ids, as `adapt run --backend onnx --check`', async () => {
    const result = await runCli([
      'run',
      'test/fixtures/hf/bert-seq-cls.fusion.adapt',
      '--weights',
      'test/fixtures/hf/bert-seq-cls.fusion.adapters.safetensors',
      '--backend',
      'onnx',
      '--batch',
      '2',
      '--seq',
      '9',
      '--seed',
      '5',
      '--check',
      '--json',
    ]);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const summary = JSON.parse(result.stdout) as { backend: string; reference_error: number };
    expect(summary.backend).toBe('onnx');
    expect(summary.reference_error).toBeLessThanOrEqual(TOLERANCE);
  });

  it('refuses a load without the ONNX model', async () => {
    const { program } = compiled('postln_pfeiffer');
    const runtime = await Runtime.create({ backend: 'onnx' });
    try {
      await expect(runtime.load(program, fixtureWeights('postln_pfeiffer'))).rejects.toThrow(
        "the onnx backend runs the program's ONNX model",
      );
    } finally {
      runtime.dispose();
    }
  });
});

describe("--backend auto's choice", () => {
  const adapter = (profile: 'software' | 'gpu', description: string): AdapterDescription => ({
    vendor: 'mesa',
    architecture: '',
    description,
    profile,
    maxBindingBytes: 2 ** 27,
  });

  it('picks ONNX Runtime over a software rasterizer, and says so in one line', async () => {
    const notice = await onnxInsteadOf(adapter('software', 'llvmpipe (LLVM 15.0.7, 256 bits)'));
    expect(notice).toMatch(
      /^the WebGPU adapter \(llvmpipe \(LLVM 15\.0\.7, 256 bits\)\) is a software rasterizer; running on ONNX Runtime \(onnxruntime-(node cpu|web wasm \(2 threads\))\) instead, --backend webgpu to keep it$/,
    );
  });

  it('keeps a hardware GPU, and no adapter at all', async () => {
    expect(await onnxInsteadOf(adapter('gpu', 'NVIDIA H200'))).toBeUndefined();
    expect(await onnxInsteadOf(undefined)).toBeUndefined();
  });
});

describe('adapt export --onnx --optimize', () => {
  it('writes the rewritten graph, which equals the CPU reference', async () => {
    const tmp = mkdtempSync(join(tmpdir(), 'adapt-onnx-backend-'));
    try {
      let stderr = '';
      const io: CliIO = { stdout: () => {}, stderr: (t) => (stderr += t), color: false, cwd: '.' };
      const name = 'fusion_default';
      const options = {
        graph: 'default',
        onnx: join(tmp, 'model.onnx'),
        weights: [join(TORCH, `${name}.weights.safetensors`)],
        seed: 0,
        optimize: true,
      };
      expect(await runExport(io, join(TORCH, `${name}.adapt`), options)).toBe(0);
      expect(stderr).toBe('');
      const bytes = readFileSync(options.onnx);
      const { ir, fileName, program } = compiled(name);
      const weights = boundWeights(name, program);
      expect(matmuls(bytes)).toBe(
        matmuls(exportOnnx(ir, weights, { fileName, graph: 'default', optimize: true })),
      );
      const inputs = randomInputs(program.model.hidden, 7);
      const runtime = await Runtime.create({ backend: 'onnx' });
      try {
        const model = await runtime.load(program, fixtureWeights(name), { onnx: bytes });
        const onnx = (await model.run(inputs)).hidden_states.data;
        const reference = await runOn('cpu', name, inputs, false);
        expect(relativeError(onnx, reference)).toBeLessThanOrEqual(TOLERANCE);
      } finally {
        runtime.dispose();
      }
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  });
});
