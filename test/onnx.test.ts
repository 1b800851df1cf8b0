import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as ort from 'onnxruntime-web';
import { afterAll, describe, expect, it } from 'vitest';
import { runExport, type ExportOptions } from '../src/cli/commands/export.js';
import { CliError, type CliIO } from '../src/cli/io.js';
import { compile } from '../src/compiler/index.js';
import { OnnxExportError, buildOnnxModel, exportOnnx } from '../src/compiler/onnx/export.js';
import { IR_VERSION, OPSET, decodeModel, type ValueInfoProto } from '../src/compiler/onnx/proto.js';
import type { RunInputs } from '../src/runtime/inputs.js';
import { normalArray } from '../src/runtime/random.js';
import { Runtime } from '../src/runtime/runtime.js';
import { loadSafetensors, type TensorMap } from '../src/runtime/safetensors.js';
import type { HostTensor } from '../src/runtime/tensor.js';
import { bindWeights, initWeights } from '../src/runtime/weights.js';
import { relativeError } from './helpers/numerics.js';

const dir = new URL('./fixtures/torch/', import.meta.url);
const dirPath = fileURLToPath(dir);
const cases = JSON.parse(readFileSync(new URL('cases.json', dir), 'utf8')) as {
  name: string;
  description: string;
  graph: string;
}[];

/** Cases the issue names; the loop below runs every fixture, and checks these are among them. */
const REQUIRED = [
  'postln_pfeiffer',
  'preln_causal_houlsby',
  'parallel',
  'fusion_default',
  'fusion_options',
  'average',
  'batch',
];

const TOLERANCE = 1e-4;

// ONNX Runtime's wasm build, which npm installs without a download (onnxruntime-node's install
// script fetches native libraries). One thread: the models are tiny, and no worker threads
// outlive a test file.
ort.env.wasm.numThreads = 1;

/** Every op type the exporter may emit: all in ONNX's default domain at opset 17. */
const STANDARD_OPS = new Set([
  'Add',
  'And',
  'Cast',
  'Concat',
  'Div',
  'Equal',
  'Erf',
  'LayerNormalization',
  'LeakyRelu',
  'LessOrEqual',
  'MatMul',
  'Mul',
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
  'Sum',
  'Tanh',
  'Transpose',
  'Unsqueeze',
  'Where',
  'Identity',
]);
const measured: string[] = [];

function fixture(name: string, part: string): TensorMap {
  return loadSafetensors(
    readFileSync(new URL(`${name}.${part}.safetensors`, dir)),
    `${name}.${part}`,
  );
}

function compiled(name: string, graph = 'default') {
  const source = readFileSync(new URL(`${name}.adapt`, dir), 'utf8');
  const result = compile(source, { fileName: `${name}.adapt`, graph, fuse: false });
  expect(result.diagnostics).toEqual([]);
  return { ...result, ir: result.ir!, program: result.program! };
}

function fixtureInputs(name: string): RunInputs {
  const input = fixture(name, 'input');
  const get = (key: string) => input.get(key) as HostTensor | undefined;
  return {
    hidden_states: get('hidden_states')!,
    ...(get('attention_mask') ? { attention_mask: get('attention_mask') } : {}),
    ...(get('adapter_index') ? { adapter_index: get('adapter_index') } : {}),
  };
}

async function runOnnx(bytes: Uint8Array, inputs: RunInputs): Promise<Float32Array> {
  const session = await ort.InferenceSession.create(bytes, { executionProviders: ['wasm'] });
  try {
    const [batch, seq] = inputs.hidden_states.shape as [number, number, number];
    const mask = inputs.attention_mask ?? {
      data: new Int32Array(batch * seq).fill(1),
      shape: [batch, seq],
    };
    const feeds: Record<string, ort.Tensor> = {
      hidden_states: new ort.Tensor(
        'float32',
        inputs.hidden_states.data as Float32Array,
        inputs.hidden_states.shape,
      ),
      attention_mask: new ort.Tensor('int32', Int32Array.from(mask.data), mask.shape),
    };
    if (inputs.adapter_index) {
      const index = inputs.adapter_index;
      feeds.adapter_index = new ort.Tensor('int32', Int32Array.from(index.data), index.shape);
    }
    const results = await session.run(feeds);
    const out = results.last_hidden_state!;
    expect(out.type).toBe('float32');
    expect(out.dims).toEqual(inputs.hidden_states.shape);
    return Float32Array.from(out.data as Float32Array);
  } finally {
    await session.release();
  }
}

async function runReference(
  program: ReturnType<typeof compiled>['program'],
  weights: TensorMap,
  inputs: RunInputs,
): Promise<Float32Array> {
  const rt = await Runtime.create({ backend: 'cpu' });
  try {
    const model = await rt.load(program, weights);
    return (await model.run(inputs)).hidden_states.data;
  } finally {
    rt.dispose();
  }
}

function exportFixture(name: string, weights = fixture(name, 'weights')): Uint8Array {
  const { ir, program } = compiled(name);
  return exportOnnx(ir, bindWeights(program, weights).tensors, {
    fileName: `${name}.adapt`,
    graph: 'default',
  });
}

afterAll(() => {
  if (measured.length > 0) console.log(`ONNX Runtime vs CPU reference:\n${measured.join('\n')}`);
});

describe('ONNX export run in ONNX Runtime (wasm), against the CPU reference', () => {
  it('covers the fixtures the issue names', () => {
    const names = cases.map((c) => c.name);
    for (const name of REQUIRED) expect(names).toContain(name);
  });

  for (const { name, description } of cases) {
    it(`${name}: ${description}`, async () => {
      const { program } = compiled(name);
      const weights = fixture(name, 'weights');
      const inputs = fixtureInputs(name);
      const onnx = await runOnnx(exportFixture(name, weights), inputs);
      const reference = await runReference(program, weights, inputs);
      const error = relativeError(onnx, reference);
      const torch = relativeError(onnx, fixture(name, 'expected').get('hidden_states')!.data);
      measured.push(
        `  ${name.padEnd(22)} ${error.toExponential(2)} (vs PyTorch ${torch.toExponential(2)})`,
      );
      expect(error).toBeLessThanOrEqual(TOLERANCE);
      expect(torch).toBeLessThanOrEqual(TOLERANCE);
    });
  }

  it('runs one exported model at other batch and sequence sizes (B and T are symbolic)', async () => {
    const { program } = compiled('batch');
    const weights = fixture('batch', 'weights');
    const bytes = exportFixture('batch', weights);
    const d = program.model.hidden;
    for (const [batch, seq] of [
      [1, 1],
      [3, 5],
      [4, 11],
    ] as const) {
      // Sequence b has its last b positions padded.
      const mask = Int32Array.from({ length: batch * seq }, (_, i) =>
        i % seq < seq - Math.floor(i / seq) ? 1 : 0,
      );
      const inputs: RunInputs = {
        hidden_states: {
          data: normalArray(batch * seq * d, batch * 100 + seq),
          shape: [batch, seq, d],
        },
        attention_mask: { data: mask, shape: [batch, seq] },
        adapter_index: {
          data: Int32Array.from({ length: batch }, (_, b) => (b + 1) % 2),
          shape: [batch],
        },
      };
      const error = relativeError(
        await runOnnx(bytes, inputs),
        await runReference(program, weights, inputs),
      );
      expect(error, `B=${batch} T=${seq}`).toBeLessThanOrEqual(TOLERANCE);
    }
  });

  it('gives zeros for a query that sees no key (causal attention, left padding)', async () => {
    const name = 'preln_causal_houlsby';
    const { program } = compiled(name);
    const weights = fixture(name, 'weights');
    const [batch, seq, d] = [2, 6, program.model.hidden];
    // Sequence 1 is padded on the left: its first two queries see no key at all.
    const mask = Int32Array.of(1, 1, 1, 1, 1, 1, 0, 0, 1, 1, 1, 1);
    const inputs: RunInputs = {
      hidden_states: { data: normalArray(batch * seq * d, 7), shape: [batch, seq, d] },
      attention_mask: { data: mask, shape: [batch, seq] },
    };
    const onnx = await runOnnx(exportFixture(name, weights), inputs);
    expect(onnx.every(Number.isFinite)).toBe(true);
    const error = relativeError(onnx, await runReference(program, weights, inputs));
    measured.push(`  ${'causal, left padding'.padEnd(22)} ${error.toExponential(2)}`);
    expect(error).toBeLessThanOrEqual(TOLERANCE);
  });
});

describe('ONNX model structure', () => {
  const name = 'fusion_options';
  const { ir, program } = compiled(name);
  const weights = bindWeights(program, fixture(name, 'weights')).tensors;
  const model = decodeModel(
    exportOnnx(ir, weights, { fileName: 'fusion_options.adapt', graph: 'default' }),
  );
  const graph = model.graph!;

  it('declares opset 17 of the default domain, IR version 8, producer and doc string', () => {
    expect(OPSET).toBe(17);
    expect(Number(model.irVersion)).toBe(IR_VERSION);
    expect(model.opsetImport.map((o) => [o.domain, Number(o.version)])).toEqual([['', 17]]);
    expect(model.producerName).toBe('adaptc');
    expect(model.docString).toContain('fusion_options.adapt');
    expect(model.docString).toContain("graph 'default'");
  });

  it('has the inputs with symbolic B and T and the output', () => {
    const describe = (v: ValueInfoProto) => ({
      name: v.name,
      type: v.type!.tensorType!.elemType,
      dims: v.type!.tensorType!.shape!.dim!.map((dim) => dim.dimParam || Number(dim.dimValue)),
    });
    expect(graph.input!.map(describe)).toEqual([
      { name: 'hidden_states', type: 1, dims: ['B', 'T', 32] },
      { name: 'attention_mask', type: 6, dims: ['B', 'T'] },
    ]);
    expect(graph.output!.map(describe)).toEqual([
      { name: 'last_hidden_state', type: 1, dims: ['B', 'T', 32] },
    ]);
  });

  it('stores every weight as an initializer under its docs/design.md §3 name, PyTorch layout', () => {
    const initializers = new Map(graph.initializer!.map((t) => [t.name, t]));
    for (const spec of program.weights) {
      const tensor = initializers.get(spec.name);
      expect(tensor, spec.name).toBeDefined();
      expect(tensor!.dims!.map(Number)).toEqual(spec.shape);
      const data = new Float32Array(Uint8Array.from(tensor!.rawData!).buffer);
      expect(data).toEqual(weights.get(spec.name));
    }
  });

  it('uses standard ops only, with deterministic unique node names', () => {
    const nodes = graph.node!;
    const ops = new Set(nodes.map((n) => n.opType!));
    for (const op of ['MatMul', 'Transpose', 'Add', 'LayerNormalization', 'Softmax', 'ReduceSum']) {
      expect(ops).toContain(op);
    }
    expect([...ops].filter((op) => !STANDARD_OPS.has(op))).toEqual([]);
    expect(nodes.every((n) => n.domain === '')).toBe(true);
    const names = nodes.map((n) => n.name);
    expect(new Set(names).size).toBe(names.length);
    expect(names).toContain(`n${ir.nodes.find((n) => n.op === 'matmul')!.id}_matmul`);
    expect(names).toContain(`n${ir.nodes.find((n) => n.op === 'attention')!.id}_attention`);
    const again = exportOnnx(ir, weights, { fileName: 'fusion_options.adapt', graph: 'default' });
    expect(again).toEqual(
      exportOnnx(ir, weights, { fileName: 'fusion_options.adapt', graph: 'default' }),
    );
  });

  it('adds adapter_index for batch(...) graphs and Where ops to select', () => {
    const batch = compiled('batch');
    const batchModel = buildOnnxModel(
      batch.ir,
      bindWeights(batch.program, fixture('batch', 'weights')).tensors,
      { fileName: 'batch.adapt', graph: 'default' },
    );
    expect(batchModel.graph!.input!.map((i) => i.name)).toEqual([
      'hidden_states',
      'attention_mask',
      'adapter_index',
    ]);
    expect(
      batchModel.graph!.node!.some((n) => n.opType === 'Where' && n.name!.endsWith('_select')),
    ).toBe(true);
  });

  it('refuses fused ops and missing weights with a clear error', () => {
    const source = readFileSync(new URL(`${name}.adapt`, dir), 'utf8');
    const fused = compile(source, { fileName: `${name}.adapt` }).optimized!;
    expect(() => exportOnnx(fused, weights, { fileName: 'x', graph: 'default' })).toThrow(
      OnnxExportError,
    );
    expect(() => exportOnnx(ir, new Map(), { fileName: 'x', graph: 'default' })).toThrow(
      /no tensor for weight 'encoder\.layer\.0\./,
    );
  });
});

describe('adapt export', () => {
  function io(cwd: string) {
    const out = { stdout: '', stderr: '' };
    const cli: CliIO = {
      stdout: (text) => (out.stdout += text),
      stderr: (text) => (out.stderr += text),
      color: false,
      cwd,
    };
    return { cli, out };
  }

  const options = (extra: Partial<ExportOptions>): ExportOptions => ({
    graph: 'default',
    onnx: 'model.onnx',
    weights: [],
    seed: 0,
    ...extra,
  });

  it('writes the model with the given weights, and it runs', async () => {
    const tmp = mkdtempSync(join(tmpdir(), 'adaptc-onnx-'));
    try {
      const { cli, out } = io(tmp);
      const code = await runExport(
        cli,
        join(dirPath, 'fusion_default.adapt'),
        options({ weights: [join(dirPath, 'fusion_default.weights.safetensors')] }),
      );
      expect(code).toBe(0);
      expect(out.stderr).toBe('');
      expect(out.stdout).toMatch(
        /^wrote model\.onnx \(ONNX opset 17, graph 'default', [\d,]+ parameters from .*fusion_default\.weights\.safetensors, [\d.]+ MiB\)\n$/,
      );
      const bytes = readFileSync(join(tmp, 'model.onnx'));
      const inputs = fixtureInputs('fusion_default');
      const reference = await runReference(
        compiled('fusion_default').program,
        fixture('fusion_default', 'weights'),
        inputs,
      );
      expect(relativeError(await runOnnx(bytes, inputs), reference)).toBeLessThanOrEqual(TOLERANCE);
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  });

  it('exports seeded initial weights without --weights', async () => {
    const tmp = mkdtempSync(join(tmpdir(), 'adaptc-onnx-'));
    try {
      const { cli, out } = io(tmp);
      expect(await runExport(cli, join(dirPath, 'average.adapt'), options({ seed: 3 }))).toBe(0);
      expect(out.stdout).toContain('seeded init (seed 3)');
      const { program } = compiled('average');
      const inputs = fixtureInputs('average');
      const reference = await runReference(program, initWeights(program, 3), inputs);
      const onnx = await runOnnx(readFileSync(join(tmp, 'model.onnx')), inputs);
      expect(relativeError(onnx, reference)).toBeLessThanOrEqual(TOLERANCE);
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  });

  it('reports weights that do not fit as one error and writes nothing', async () => {
    const tmp = mkdtempSync(join(tmpdir(), 'adaptc-onnx-'));
    try {
      const { cli } = io(tmp);
      const run = runExport(
        cli,
        join(dirPath, 'average.adapt'),
        options({ weights: [join(dirPath, 'postln_pfeiffer.weights.safetensors')] }),
      );
      await expect(run).rejects.toThrow(CliError);
      await expect(run).rejects.toThrow(/do not fit/);
      expect(existsSync(join(tmp, 'model.onnx'))).toBe(false);
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  });
});
