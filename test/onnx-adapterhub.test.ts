import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import * as ort from 'onnxruntime-web';
import { afterAll, describe, expect, it } from 'vitest';
import { runExport } from '../src/cli/commands/export.js';
import type { CliIO } from '../src/cli/io.js';
import { decodeModel } from '../src/compiler/onnx/proto.js';
import { loadSafetensors, type TensorMap } from '../src/runtime/safetensors.js';

/**
 * Each AdapterHub spec of test/fixtures/adapterhub/specs exported with `adapt export` (the
 * checkpoint's weights and the adapter, head and fusion directories the graph reads), then run in
 * ONNX Runtime: PyTorch's outputs from the fixture within 1e-4.
 */
const ROOT = 'test/fixtures/adapterhub';
const SPECS = join(ROOT, 'specs');
const TOLERANCE = 1e-4;

ort.env.wasm.numThreads = 1;

/** The fixture cases that have a spec, each with its base checkpoint's directory. */
const CASES = (
  JSON.parse(readFileSync(join(ROOT, 'cases.json'), 'utf8')) as {
    cases: { name: string; model: string }[];
  }
).cases.filter((c) => existsSync(join(SPECS, `${c.name}.adapt`)));

/** Every op type the AdapterHub graphs export to: opset 17's, in ONNX's default domain. */
const STANDARD_OPS = new Set([
  'Add',
  'Cast',
  'Clip',
  'Concat',
  'CumSum',
  'Div',
  'Equal',
  'Erf',
  'Expand',
  'Gather',
  'LayerNormalization',
  'LeakyRelu',
  'MatMul',
  'Mul',
  'Not',
  'Range',
  'ReduceMean',
  'ReduceSum',
  'Relu',
  'Reshape',
  'Shape',
  'Sigmoid',
  'Slice',
  'Softmax',
  'Squeeze',
  'Tanh',
  'Transpose',
  'Unsqueeze',
  'Where',
]);
const measured: string[] = [];

afterAll(() => {
  if (measured.length > 0)
    console.log(`ONNX Runtime vs PyTorch, AdapterHub (max abs):\n${measured.join('\n')}`);
});

function cliIO(cwd: string) {
  const out = { stdout: '', stderr: '' };
  const io: CliIO = {
    stdout: (text) => (out.stdout += text),
    stderr: (text) => (out.stderr += text),
    color: false,
    cwd,
  };
  return { io, out };
}

/** `adapt export SPEC --onnx model.onnx` in a fresh directory: the bytes and what it printed. */
async function exportCase(name: string): Promise<{ bytes: Uint8Array; stdout: string }> {
  const tmp = mkdtempSync(join(tmpdir(), 'adaptc-onnx-hub-'));
  try {
    const { io, out } = cliIO(tmp);
    const spec = resolve(SPECS, `${name}.adapt`);
    const code = await runExport(io, spec, {
      graph: 'default',
      onnx: 'model.onnx',
      weights: [],
      seed: 0,
    });
    expect(code).toBe(0);
    // The pooler without a head, and the LayerNorm saved twice with ln_before, are not read.
    expect(out.stderr).toMatch(
      /^(note: ignored \d+ tensors? that graph 'default' does not read: [^\n]*\n)?$/,
    );
    return { bytes: readFileSync(join(tmp, 'model.onnx')), stdout: out.stdout };
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

async function runOnnx(
  bytes: Uint8Array,
  expected: TensorMap,
): Promise<Record<string, { data: Float32Array; dims: readonly number[] }>> {
  const session = await ort.InferenceSession.create(bytes, { executionProviders: ['wasm'] });
  try {
    const feeds = Object.fromEntries(
      session.inputNames.map((name) => {
        const tensor = expected.get(name);
        expect(tensor, name).toBeDefined();
        const data = Int32Array.from(tensor!.data as Int32Array);
        return [name, new ort.Tensor('int32', data, [...tensor!.shape])];
      }),
    );
    const results = await session.run(feeds);
    return Object.fromEntries(
      Object.entries(results).map(([name, t]) => [
        name,
        { data: Float32Array.from(t.data as Float32Array), dims: t.dims },
      ]),
    );
  } finally {
    await session.release();
  }
}

const worst = (got: Float32Array, want: ArrayLike<number>) =>
  got.reduce((m, v, i) => Math.max(m, Math.abs(v - want[i]!)), 0);

describe('AdapterHub specs exported to ONNX, run in ONNX Runtime (wasm)', () => {
  it.each(CASES.map((c) => [c.name, c.model] as const))(
    "%s: PyTorch's outputs within 1e-4",
    async (name, checkpoint) => {
      const { bytes, stdout } = await exportCase(name);
      expect(stdout).toMatch(
        /^wrote model\.onnx \(ONNX opset 17, graph 'default', [\d,]+ parameters from /,
      );
      // The checkpoint directory, then each AdapterHub directory's weights file.
      expect(stdout).toContain(`from ${resolve(ROOT, checkpoint)}, ${resolve(ROOT, name)}/`);
      const expected = loadSafetensors(readFileSync(join(ROOT, `${name}.expected.safetensors`)));
      const outputs = await runOnnx(bytes, expected);
      // Every tensor of the expected file but the inputs is an output PyTorch computed.
      const inputs = ['input_ids', 'attention_mask', 'token_type_ids', 'adapter_index'];
      const names = [...expected.keys()].filter((output) => !inputs.includes(output));
      expect(Object.keys(outputs).sort()).toEqual(names.sort());
      for (const output of names) {
        const want = expected.get(output)!;
        expect(outputs[output]!.dims, output).toEqual(want.shape);
        const error = worst(outputs[output]!.data, want.data);
        measured.push(`  ${name.padEnd(20)} ${output.padEnd(18)} ${error.toExponential(2)}`);
        expect(error, `${name} ${output}`).toBeLessThan(TOLERANCE);
      }
    },
  );

  it('emits only standard opset-17 ops, LeakyRelu and ReduceMean among them', async () => {
    const ops = new Set<string>();
    for (const { name } of CASES) {
      const graph = decodeModel((await exportCase(name)).bytes).graph!;
      expect(
        graph.node!.every((n) => n.domain === ''),
        name,
      ).toBe(true);
      for (const node of graph.node!) ops.add(node.opType!);
    }
    expect([...ops].filter((op) => !STANDARD_OPS.has(op))).toEqual([]);
    // bn-gated's leakyrelu, its gate's mean over the tokens, and the channel scaling.
    for (const op of ['LeakyRelu', 'ReduceMean', 'Mul']) expect(ops.has(op), op).toBe(true);
  });
});

describe('adapt export of an AdapterHub spec', () => {
  it("refuses to write over an AdapterHub directory's weights, and leaves it as it was", async () => {
    const weights = resolve(ROOT, 'seq-bn-head/sentiment/adapter.safetensors');
    const before = readFileSync(weights);
    const { io } = cliIO(tmpdir());
    const run = runExport(io, resolve(SPECS, 'seq-bn-head.adapt'), {
      graph: 'default',
      onnx: weights,
      weights: [],
      seed: 0,
      force: true,
    });
    await expect(run).rejects.toThrow(
      /--onnx .*sentiment\/adapter\.safetensors is one of this command's inputs \(an AdapterHub directory\)/,
    );
    expect(readFileSync(weights)).toEqual(before);
  });
});
