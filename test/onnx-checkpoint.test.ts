import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import * as ort from 'onnxruntime-web';
import { afterAll, describe, expect, it } from 'vitest';
import { readCheckpoint } from '../src/cli/checkpoint-files.js';
import { runExport, type ExportOptions } from '../src/cli/commands/export.js';
import { CliError, type CliIO } from '../src/cli/io.js';
import { compile } from '../src/compiler/index.js';
import type { IrGraph } from '../src/compiler/ir/types.js';
import { exportOnnx } from '../src/compiler/onnx/export.js';
import { decodeModel, type ValueInfoProto } from '../src/compiler/onnx/proto.js';
import type { Program } from '../src/runtime/program.js';
import { loadSafetensors, type TensorMap } from '../src/runtime/safetensors.js';
import { bindWeights } from '../src/runtime/weights.js';

const FIXTURES = 'test/fixtures/hf';
const SPEC_PATH = join(FIXTURES, 'spec.adapt');
const TOLERANCE = 1e-4;

ort.env.wasm.numThreads = 1;

/** The ONNX ops a checkpoint graph adds to those of test/onnx.test.ts, all of opset 17. */
const STANDARD_OPS = new Set([
  'Add',
  'And',
  'Cast',
  'Clip',
  'CumSum',
  'Div',
  'Equal',
  'Erf',
  'Expand',
  'Gather',
  'LayerNormalization',
  'LessOrEqual',
  'MatMul',
  'Mul',
  'Not',
  'Range',
  'Relu',
  'Reshape',
  'Shape',
  'Slice',
  'Softmax',
  'Squeeze',
  'Tanh',
  'Transpose',
  'Unsqueeze',
  'Where',
  'Concat',
  'ReduceSum',
]);
const measured: string[] = [];

afterAll(() => {
  if (measured.length > 0)
    console.log(`ONNX Runtime vs PyTorch (max abs):\n${measured.join('\n')}`);
});

interface FixtureCase {
  readonly name: string;
  readonly dir: string;
  readonly family: string;
  readonly head: string;
  readonly attention_mask: number[][];
}

const CASES = (
  JSON.parse(readFileSync(join(FIXTURES, 'cases.json'), 'utf8')) as { checkpoints: FixtureCase[] }
).checkpoints;

/** The checkpoint-only cases, then the adapter cases on bert-seq-cls, each with its spec. */
const SPECS: readonly { name: string; dir: string; spec: string; adapters?: string }[] = [
  ...CASES.map((entry) => ({
    name: entry.name,
    dir: entry.dir,
    spec: `model tiny from "${entry.dir}"\n`,
  })),
  ...['pfeiffer', 'fusion'].map((kind) => ({
    name: `bert-seq-cls.${kind}`,
    dir: 'bert-seq-cls',
    spec: readFileSync(join(FIXTURES, `bert-seq-cls.${kind}.adapt`), 'utf8'),
    adapters: join(FIXTURES, `bert-seq-cls.${kind}.adapters.safetensors`),
  })),
];

/** The spec compiled as the CLI compiles it for export: unfused, config.json beside the spec. */
function compileSpec(spec: string): { ir: IrGraph; program: Program } {
  const compiled = compile(spec, {
    fileName: SPEC_PATH,
    fuse: false,
    readFile: (path) => {
      const file = join(FIXTURES, path);
      return existsSync(file) ? readFileSync(file, 'utf8') : undefined;
    },
  });
  expect(compiled.diagnostics).toEqual([]);
  return { ir: compiled.ir!, program: compiled.program! };
}

const readTensors = (path: string): TensorMap => loadSafetensors(readFileSync(path), path);

/** The ONNX bytes of a spec, its weights read from the checkpoint and bound as the runtime binds them. */
function exportSpec(entry: (typeof SPECS)[number]): { bytes: Uint8Array; program: Program } {
  const { ir, program } = compileSpec(entry.spec);
  const checkpoint = readCheckpoint('.', SPEC_PATH, entry.dir);
  const files = [
    checkpoint.weights.tensors,
    ...(entry.adapters ? [readTensors(entry.adapters)] : []),
  ];
  const bytes = exportOnnx(ir, bindWeights(program, files).tensors, {
    fileName: SPEC_PATH,
    graph: 'default',
    text: program.model.text!,
  });
  return { bytes, program };
}

type Feeds = Record<string, { data: Int32Array; shape: number[] }>;

/** input_ids, attention_mask and, where the model takes them, token_type_ids of the expected file. */
function expectedFeeds(expected: TensorMap, inputNames: readonly string[]): Feeds {
  const feeds: Feeds = {};
  for (const name of inputNames) {
    const tensor = expected.get(name);
    expect(tensor, name).toBeDefined();
    feeds[name] = { data: Int32Array.from(tensor!.data as Int32Array), shape: [...tensor!.shape] };
  }
  return feeds;
}

async function runOnnx(
  bytes: Uint8Array,
  feeds: Feeds,
): Promise<Record<string, { data: Float32Array; dims: readonly number[] }>> {
  const session = await ort.InferenceSession.create(bytes, { executionProviders: ['wasm'] });
  try {
    const tensors = Object.fromEntries(
      Object.entries(feeds).map(([name, t]) => [name, new ort.Tensor('int32', t.data, t.shape)]),
    );
    const results = await session.run(tensors);
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

const inputNames = (bytes: Uint8Array) => decodeModel(bytes).graph!.input!.map((i) => i.name!);

describe('a checkpoint graph exported to ONNX, run in ONNX Runtime (wasm)', () => {
  it.each(SPECS.map((entry) => [entry.name, entry] as const))(
    "%s: PyTorch's last_hidden_state and logits within 1e-4",
    async (name, entry) => {
      const { bytes } = exportSpec(entry);
      const expected = readTensors(join(FIXTURES, `${name}.expected.safetensors`));
      const outputs = await runOnnx(bytes, expectedFeeds(expected, inputNames(bytes)));
      expect(Object.keys(outputs).sort()).toEqual(['last_hidden_state', 'logits']);
      for (const output of ['last_hidden_state', 'logits']) {
        const want = expected.get(output)!;
        expect(outputs[output]!.dims, output).toEqual(want.shape);
        const error = worst(outputs[output]!.data, want.data);
        measured.push(`  ${name.padEnd(22)} ${output.padEnd(18)} ${error.toExponential(2)}`);
        expect(error, `${name} ${output}`).toBeLessThan(TOLERANCE);
      }
    },
  );

  // B and T are symbolic, and position ids follow each text: a text alone and unpadded gives
  // the batch's values at its real positions (the pad-dependent RoBERTa rule included).
  it.each(CASES.map((entry) => [entry.name, entry] as const))(
    '%s: each text alone, unpadded, gives its rows of the padded batch',
    async (name, entry) => {
      const { bytes } = exportSpec(SPECS.find((s) => s.name === name)!);
      const expected = readTensors(join(FIXTURES, `${name}.expected.safetensors`));
      const names = inputNames(bytes);
      const [batch, seq] = expected.get('input_ids')!.shape as [number, number];
      const hidden = expected.get('last_hidden_state')!;
      const d = hidden.shape[2]!;
      for (let b = 0; b < batch; b++) {
        const length = entry.attention_mask[b]!.reduce((n, m) => n + m, 0);
        const feeds: Feeds = {};
        for (const input of names) {
          const all = expected.get(input)!.data as Int32Array;
          feeds[input] = { data: all.slice(b * seq, b * seq + length), shape: [1, length] };
        }
        const outputs = await runOnnx(bytes, feeds);
        const rows = hidden.data.subarray(b * seq * d, (b * seq + length) * d);
        expect(worst(outputs.last_hidden_state!.data, rows), `${name} text ${b}`).toBeLessThan(
          TOLERANCE,
        );
      }
    },
  );
});

describe('the ONNX model of a checkpoint graph', () => {
  const describeValue = (v: ValueInfoProto) => ({
    name: v.name,
    dims: v.type!.tensorType!.shape!.dim!.map((dim) => dim.dimParam || Number(dim.dimValue)),
  });

  it.each([
    ['bert-seq-cls', ['input_ids', 'attention_mask', 'token_type_ids'], ['B', 3]],
    ['roberta-seq-cls', ['input_ids', 'attention_mask', 'token_type_ids'], ['B', 2]],
    ['distilbert-token-cls', ['input_ids', 'attention_mask'], ['B', 'T', 5]],
    ['distilbert-seq-cls', ['input_ids', 'attention_mask'], ['B', 2]],
    ['gpt2-lm', ['input_ids', 'attention_mask'], ['B', 'T', 54]],
  ] as const)(
    '%s: token inputs without position_ids (computed in the graph), both outputs',
    (name, inputs, logits) => {
      const model = decodeModel(exportSpec(SPECS.find((s) => s.name === name)!).bytes);
      const graph = model.graph!;
      expect(graph.input!.map(describeValue)).toEqual(
        inputs.map((input) => ({ name: input, dims: ['B', 'T'] })),
      );
      expect(graph.input!.every((i) => i.type!.tensorType!.elemType === 6)).toBe(true);
      expect(graph.input!.every((i) => (i.docString ?? '').startsWith('int32 [B,T]'))).toBe(true);
      const hidden = name === 'bert-seq-cls' ? 32 : 16;
      expect(graph.output!.map(describeValue)).toEqual([
        { name: 'last_hidden_state', dims: ['B', 'T', hidden] },
        { name: 'logits', dims: logits },
      ]);
      const ops = graph.node!.map((n) => n.opType!);
      expect(ops.filter((op) => !STANDARD_OPS.has(op))).toEqual([]);
      expect(graph.node!.every((n) => n.domain === '')).toBe(true);
      // Word, position (and type) embeddings are clipped gathers; the position ids are counted
      // past the pads for RoBERTa only.
      const gathers = graph.node!.filter((n) => n.opType === 'Gather' && /_gather$/.test(n.name!));
      expect(gathers.length).toBe(inputs.length);
      expect(ops.filter((op) => op === 'Clip').length).toBe(inputs.length);
      expect(ops.includes('CumSum')).toBe(name === 'roberta-seq-cls');
      expect(graph.node!.some((n) => n.output!.includes('position_ids'))).toBe(true);
      const firstToken = graph.node!.some((n) => /_first_token$/.test(n.name!));
      expect(firstToken).toBe(name.endsWith('-seq-cls'));
    },
  );

  it("stores GPT-2's Conv1D weights transposed and split, and wte once for the tied head", () => {
    const { bytes } = exportSpec(SPECS.find((s) => s.name === 'gpt2-lm')!);
    const graph = decodeModel(bytes).graph!;
    const initializers = new Map(graph.initializer!.map((t) => [t.name!, t]));
    const values = (name: string) =>
      new Float32Array(Uint8Array.from(initializers.get(name)!.rawData!).buffer);
    const stored = readCheckpoint('.', SPEC_PATH, 'gpt2-lm').weights.tensors;
    const cAttn = stored.get('transformer.h.0.attn.c_attn.weight')!;
    expect(cAttn.shape).toEqual([16, 48]);
    const key = values('h.0.attn.c_attn.k.weight');
    expect(initializers.get('h.0.attn.c_attn.k.weight')!.dims!.map(Number)).toEqual([16, 16]);
    // k.weight[out r][in c] = c_attn.weight[in c][16 + r].
    for (const [r, c] of [
      [0, 0],
      [3, 7],
      [15, 15],
    ] as const)
      expect(key[r * 16 + c]).toBe(cAttn.data[c * 48 + 16 + r]);
    expect(graph.initializer!.filter((t) => t.name === 'wte.weight').length).toBe(1);
    expect([...initializers.keys()].some((n) => n.startsWith('transformer.'))).toBe(false);
  });
});

describe('the ONNX translations of gather, first_token and sigmoid', () => {
  // input_ids [B,T] → gather(table [4,3]) → first_token → sigmoid, by hand.
  const table = Float32Array.of(-2, -1, 0, 0.5, 1, 1.5, 2, 3, -4, -0.25, 0.75, 5);
  const graph: IrGraph = {
    nodes: [
      { id: 0, op: 'input', dtype: 'i32', shape: ['B', 'T'], inputs: [], attrs: { name: 'ids' } },
      { id: 1, op: 'weight', dtype: 'f32', shape: [4, 3], inputs: [], attrs: { name: 'table' } },
      { id: 2, op: 'gather', dtype: 'f32', shape: ['B', 'T', 3], inputs: [1, 0], attrs: {} },
      { id: 3, op: 'first_token', dtype: 'f32', shape: ['B', 3], inputs: [2], attrs: {} },
      { id: 4, op: 'sigmoid', dtype: 'f32', shape: ['B', 3], inputs: [3], attrs: {} },
    ],
    inputs: [{ name: 'ids', node: 0 }],
    outputs: [
      { name: 'rows', node: 2 },
      { name: 'scores', node: 4 },
    ],
    weights: [{ name: 'table', shape: [4, 3], init: { kind: 'zeros' } }],
  };
  const bytes = exportOnnx(graph, new Map([['table', table]]), { fileName: 'x', graph: 'g' });

  it('gathers rows with ids clamped into the table, as the CPU and WebGPU kernels do', async () => {
    // Ids -1 and 9 are clamped to rows 0 and 3.
    const ids = Int32Array.of(2, -1, 9, 1, 3, 0);
    const { rows } = await runOnnx(bytes, { ids: { data: ids, shape: [2, 3] } });
    expect(rows!.dims).toEqual([2, 3, 3]);
    const row = (r: number) => [...table.subarray(r * 3, r * 3 + 3)];
    expect([...rows!.data]).toEqual([2, 0, 3, 1, 3, 0].flatMap(row));
  });

  it('takes the first token of each sequence and applies the logistic function', async () => {
    const ids = Int32Array.of(3, 0, 1, 1);
    const { scores } = await runOnnx(bytes, { ids: { data: ids, shape: [2, 2] } });
    expect(scores!.dims).toEqual([2, 3]);
    const logistic = (x: number) => 1 / (1 + Math.exp(-x));
    // Rows 3 and 1 of the table.
    const want = [-0.25, 0.75, 5, 0.5, 1, 1.5].map(logistic);
    expect(worst(scores!.data, want)).toBeLessThan(1e-6);
  });
});

describe('adapt export of a checkpoint spec', () => {
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

  const options = (extra: Partial<ExportOptions> = {}): ExportOptions => ({
    graph: 'default',
    onnx: 'model.onnx',
    weights: [],
    seed: 0,
    ...extra,
  });

  function withTmp(work: (tmp: string) => Promise<void>): Promise<void> {
    const tmp = mkdtempSync(join(tmpdir(), 'adaptc-onnx-ckpt-'));
    return work(tmp).finally(() => rmSync(tmp, { recursive: true, force: true }));
  }

  it('reads the weights from the checkpoint directory, and the model runs', () =>
    withTmp(async (tmp) => {
      const spec = join(tmp, 'roberta.adapt');
      writeFileSync(spec, `model tiny from "${resolve(FIXTURES, 'roberta-seq-cls')}"\n`);
      const { cli, out } = io(tmp);
      expect(await runExport(cli, spec, options())).toBe(0);
      expect(out.stderr).toBe('');
      expect(out.stdout).toMatch(
        /^wrote model\.onnx \(ONNX opset 17, graph 'default', 8,354 parameters from \/.*roberta-seq-cls, [\d.]+ MiB\)\n$/,
      );
      const bytes = readFileSync(join(tmp, 'model.onnx'));
      const expected = readTensors(join(FIXTURES, 'roberta-seq-cls.expected.safetensors'));
      const outputs = await runOnnx(bytes, expectedFeeds(expected, inputNames(bytes)));
      expect(worst(outputs.logits!.data, expected.get('logits')!.data)).toBeLessThan(TOLERANCE);
    }));

  it('adds adapter files given with --weights', () =>
    withTmp(async (tmp) => {
      const { cli, out } = io(tmp);
      const adapters = resolve(FIXTURES, 'bert-seq-cls.fusion.adapters.safetensors');
      const spec = resolve(FIXTURES, 'bert-seq-cls.fusion.adapt');
      expect(await runExport(cli, spec, options({ weights: [adapters] }))).toBe(0);
      expect(out.stdout).toContain(`from ${resolve(FIXTURES, 'bert-seq-cls')}, ${adapters}`);
      const bytes = readFileSync(join(tmp, 'model.onnx'));
      const expected = readTensors(join(FIXTURES, 'bert-seq-cls.fusion.expected.safetensors'));
      const outputs = await runOnnx(bytes, expectedFeeds(expected, inputNames(bytes)));
      for (const name of ['last_hidden_state', 'logits'])
        expect(worst(outputs[name]!.data, expected.get(name)!.data), name).toBeLessThan(TOLERANCE);
    }));

  it('names the checkpoint directory when adapter weights are missing, and writes nothing', () =>
    withTmp(async (tmp) => {
      const { cli } = io(tmp);
      const run = runExport(cli, resolve(FIXTURES, 'bert-seq-cls.pfeiffer.adapt'), options());
      await expect(run).rejects.toThrow(CliError);
      await expect(run).rejects.toThrow(
        /bert-seq-cls: error: the weights do not fit .*bert-seq-cls\.pfeiffer\.adapt: 8 tensors are missing: 'encoder\.layer\.0\.output\.adapters\.pf\.adapter_down\.0\.weight'/,
      );
      expect(existsSync(join(tmp, 'model.onnx'))).toBe(false);
    }));

  it("refuses to write over one of the checkpoint's files", () =>
    withTmp(async (tmp) => {
      const { cli } = io(tmp);
      // Without the adapter file the export would fail before writing anyway.
      const own = runExport(
        cli,
        resolve(FIXTURES, 'bert-seq-cls.pfeiffer.adapt'),
        options({ onnx: resolve(FIXTURES, 'bert-seq-cls/model.safetensors'), force: true }),
      );
      await expect(own).rejects.toThrow(
        /--onnx .*bert-seq-cls\/model\.safetensors is one of this command's inputs \(the checkpoint\)/,
      );
    }));
});
