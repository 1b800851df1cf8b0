import { describe, expect, it } from 'vitest';
import { compile } from '../../src/compiler/index.js';
import { CPU_KERNELS } from '../../src/runtime/cpu/all-kernels.js';
import {
  AdaptError,
  ArgumentError,
  InputError,
  ProgramError,
  ResourceError,
  WeightError,
} from '../../src/runtime/errors.js';
import { prepareInputs, randomInputs } from '../../src/runtime/inputs.js';
import { estimateMemory, formatBytes } from '../../src/runtime/memory.js';
import type { Program } from '../../src/runtime/program.js';
import { normalArray, seededUniform } from '../../src/runtime/random.js';
import { Runtime } from '../../src/runtime/runtime.js';
import { loadSafetensors, saveSafetensors, type TensorMap } from '../../src/runtime/safetensors.js';
import { elementCount } from '../../src/runtime/tensor.js';
import { validateProgram } from '../../src/runtime/validate-program.js';
import { COMPUTE_OPS } from '../../src/runtime/ops/registry.js';
import { initWeights } from '../../src/runtime/weights.js';

const SPEC = `model m { hidden 8 heads 2 ffn 16 layers 2 }
adapter a { bottleneck 2 at attn, ffn }
adapter b { bottleneck 3 activation gelu at ffn }
fusion f { adapters a, b  at ffn }
graph default = f
graph routed = batch(a, b)
`;

function program(graph = 'default', fuse = true): Program {
  const result = compile(SPEC, { fileName: 'spec.adapt', graph, fuse });
  expect(result.diagnostics).toEqual([]);
  return result.program!;
}

/** A fresh seed per call, so the tests see new values each run and the run can be replayed. */
const nextSeed = (() => {
  const uniform = seededUniform(Date.now() >>> 0);
  return () => Math.floor(uniform() * 2 ** 32);
})();

const hidden = (batch: number, seq: number) => ({
  data: normalArray(batch * seq * 8, nextSeed()),
  shape: [batch, seq, 8],
});

async function cpuModel(p = program()) {
  const rt = await Runtime.create({ backend: 'cpu' });
  return rt.load(p, initWeights(p, nextSeed()));
}

/** What `action` throws (synchronously or as a rejection). */
async function thrown(action: () => unknown): Promise<unknown> {
  try {
    await action();
  } catch (error) {
    return error;
  }
  throw new Error('expected an error');
}

async function expectError(
  action: () => unknown,
  type: new (...args: never[]) => Error,
  message: string | RegExp,
): Promise<void> {
  const error = await thrown(action);
  expect(error).toBeInstanceOf(type);
  if (typeof message === 'string') expect((error as Error).message).toBe(message);
  else expect((error as Error).message).toMatch(message);
}

describe('the embedding API fails politely', () => {
  it('rejects bytes that are not bytes', async () => {
    await expectError(
      () => loadSafetensors(null as unknown as Uint8Array),
      ArgumentError,
      '<memory>: a safetensors file must be given as a Uint8Array or an ArrayBuffer, got null',
    );
    await expectError(
      () => loadSafetensors('w.safetensors' as unknown as Uint8Array),
      ArgumentError,
      /got the string "w.safetensors"$/,
    );
  });

  it('rejects runtimes that cannot be', async () => {
    await expectError(
      () => Runtime.create(null as never),
      ArgumentError,
      'Runtime.create options must be an object, got null',
    );
    await expectError(
      () => Runtime.create({ backend: 'tpu' as never }),
      ArgumentError,
      `backend must be 'auto', 'webgpu', 'cpu' or 'onnx', got the string "tpu"`,
    );
    await expectError(
      () => Runtime.create({ backend: 'cpu', memoryLimitBytes: -5 }),
      ArgumentError,
      'memoryLimitBytes must be a positive number of bytes, got -5',
    );
    await expectError(
      () => Runtime.create({ backend: 'cpu', onNotice: 'log' as never }),
      ArgumentError,
      'onNotice must be a function, got the string "log"',
    );
  });

  it('rejects loads of things that are not programs or weights', async () => {
    const rt = await Runtime.create({ backend: 'cpu' });
    const p = program();
    const weights = initWeights(p, nextSeed());
    await expectError(
      () => rt.load(null, weights),
      ProgramError,
      'program: must be an object, got null',
    );
    await expectError(
      () => rt.load(p, null as never),
      ArgumentError,
      'weights must be a Map of tensors (as loadSafetensors returns), got null',
    );
    await expectError(
      () => rt.load(p, { a: 1 } as never),
      ArgumentError,
      'weights must be a Map of tensors (as loadSafetensors returns), got an object',
    );
    await expectError(
      () => rt.load({ ...p, nodes: [null, ...p.nodes.slice(1)] }, weights),
      ProgramError,
      'program.nodes[0]: must be an object, got null',
    );
    const broken: TensorMap = new Map(weights);
    broken.set(p.weights[0]!.name, null as never);
    await expectError(
      () => rt.load(p, broken),
      WeightError,
      `tensor '${p.weights[0]!.name}' must be an object { dtype, shape, data }`,
    );
  });

  it('rejects run inputs of the wrong kind, naming the tensor', async () => {
    const model = await cpuModel();
    const cases: [unknown, new (...args: never[]) => Error, string][] = [
      [
        null,
        ArgumentError,
        'inputs must be an object such as { hidden_states: { data, shape } }, got null',
      ],
      [
        { hidden_states: null },
        InputError,
        "tensor 'hidden_states': must be an object { data, shape }, got null",
      ],
      [
        { hidden_states: { data: null, shape: [1, 1, 8] } },
        InputError,
        "tensor 'hidden_states': data must be a typed array such as a Float32Array, got null",
      ],
      [
        { hidden_states: { data: [1, 2, 3], shape: 'x' } },
        InputError,
        "tensor 'hidden_states': data must be a typed array such as a Float32Array, got an array",
      ],
      [
        { hidden_states: { data: new Float32Array(8), shape: 'x' } },
        InputError,
        `tensor 'hidden_states': shape must be an array, got the string "x"`,
      ],
      [
        { hidden_states: { data: new Float32Array(8), shape: [-1, 1, 8] } },
        InputError,
        "tensor 'hidden_states': shape[0] must be a non-negative integer, got -1",
      ],
      [
        { hidden_states: { data: new Float32Array(8), shape: [1, 1.5, 8] } },
        InputError,
        "tensor 'hidden_states': shape[1] must be a non-negative integer, got 1.5",
      ],
      [
        { hidden_states: { data: new Float32Array(8), shape: [2 ** 53, 1, 8] } },
        InputError,
        "tensor 'hidden_states': shape[0] must be a non-negative integer, got 9007199254740992",
      ],
      [
        { hidden_states: { data: new Float32Array(8), shape: [1e6, 1e6, 8] } },
        InputError,
        "tensor 'hidden_states': has 8 values for shape [1000000, 1000000, 8]",
      ],
      [
        { hidden_states: { data: new Float32Array(15), shape: [1, 2, 8] } },
        InputError,
        "tensor 'hidden_states': has 15 values for shape [1, 2, 8]",
      ],
      [
        { hidden_states: { data: new Float32Array(8), shape: [1, 8] } },
        InputError,
        "tensor 'hidden_states': shape must be [B, T, 8], got [1, 8]",
      ],
      [
        { hidden_states: hidden(1, 2), attention_mask: { data: new Int32Array(3), shape: [1, 3] } },
        InputError,
        "tensor 'attention_mask': shape must be [1, 2], got [1, 3]",
      ],
      [
        { hidden: hidden(1, 2) },
        InputError,
        "unknown input 'hidden'; this program takes 'hidden_states', 'attention_mask'",
      ],
    ];
    for (const [inputs, type, message] of cases) {
      await expectError(() => model.run(inputs as never), type, message);
    }
    await expectError(
      () => model.run({ hidden_states: hidden(1, 2) }, { allowNonFinite: 'yes' } as never),
      ArgumentError,
      'allowNonFinite must be true or false, got the string "yes"',
    );
  });

  it('never throws anything but its own errors, whatever the inputs hold', async () => {
    const model = await cpuModel();
    const values: unknown[] = [
      undefined,
      null,
      0,
      -1,
      1.5,
      NaN,
      'x',
      [],
      {},
      [1, 2],
      new Float64Array(8),
      new Int8Array(8),
      new BigInt64Array(8),
      new DataView(new ArrayBuffer(8)),
      () => 1,
    ];
    for (const data of values) {
      for (const shape of values) {
        for (const name of ['hidden_states', 'attention_mask', 'adapter_index', 'other']) {
          const inputs = { hidden_states: hidden(1, 1), [name]: { data, shape } };
          const outcome = await model.run(inputs as never).catch((error: unknown) => error);
          if (outcome instanceof Error) expect(outcome).toBeInstanceOf(AdaptError);
        }
      }
    }
  });
});

describe('no silent acceptance', () => {
  it('rejects weights holding NaN or ±Infinity, naming the tensor and the element', async () => {
    const rt = await Runtime.create({ backend: 'cpu' });
    const p = program();
    const name = 'encoder.layer.1.output.dense.weight';
    for (const [bad, shown] of [
      [NaN, 'NaN'],
      [Infinity, 'Infinity'],
      [-Infinity, '-Infinity'],
    ] as const) {
      const weights = initWeights(p, nextSeed());
      const index = Math.floor(seededUniform(nextSeed())() * 128);
      weights.get(name)!.data[index] = bad;
      await expectError(
        () => rt.load(p, weights),
        WeightError,
        `tensor '${name}': element ${index} is ${shown}`,
      );
    }
  });

  it('rejects hidden states holding NaN or ±Infinity unless asked to allow them', async () => {
    const model = await cpuModel();
    const input = hidden(2, 3);
    input.data[17] = NaN;
    await expectError(
      () => model.run({ hidden_states: input }),
      InputError,
      "tensor 'hidden_states': element 17 is NaN",
    );
    input.data[17] = 0;
    input.data[5] = -Infinity;
    await expectError(
      () => model.run({ hidden_states: input }),
      InputError,
      "tensor 'hidden_states': element 5 is -Infinity",
    );
    const { hidden_states } = await model.run({ hidden_states: input }, { allowNonFinite: true });
    expect(hidden_states.shape).toEqual([2, 3, 8]);
    // The poisoned token is row 0 of sequence 0; sequence 1 never sees it and stays finite.
    expect(Number.isNaN(hidden_states.data[0])).toBe(true);
    expect(hidden_states.data.subarray(24).every(Number.isFinite)).toBe(true);
  });

  it('accepts a mask of 0 and 1 in any dtype and rejects other values', async () => {
    const model = await cpuModel();
    const input = hidden(1, 3);
    const withMask = (data: Float32Array | Int32Array | Uint8Array) =>
      model.run({ hidden_states: input, attention_mask: { data, shape: [1, 3] } });
    const asInts = await withMask(Int32Array.from([1, 1, 0]));
    const asFloats = await withMask(Float32Array.from([1, 1, 0]));
    expect([...asFloats.hidden_states.data]).toEqual([...asInts.hidden_states.data]);
    await expectError(
      () => withMask(Int32Array.from([1, 2, 0])),
      InputError,
      "tensor 'attention_mask': element 1 is 2; a mask holds only 0 (pad) and 1 (attend)",
    );
    await expectError(
      () => withMask(Float32Array.from([1, 0.5, 0])),
      InputError,
      "tensor 'attention_mask': element 1 is 0.5; a mask holds only 0 (pad) and 1 (attend)",
    );
  });

  it('needs an integer dtype and in-range values for adapter_index, from a file too', async () => {
    const model = await cpuModel(program('routed'));
    const input = hidden(2, 2);
    const run = (adapter_index: object) =>
      model.run({ hidden_states: input, adapter_index } as never);
    await expectError(
      () => run({ data: Float32Array.from([0, 1]), shape: [2] }),
      InputError,
      "tensor 'adapter_index': has dtype Float32Array; it must have an integer dtype (I8..I64, U8..U64)",
    );
    await expectError(
      () => run({ data: Int32Array.from([0, 2]), shape: [2] }),
      InputError,
      "tensor 'adapter_index': element 1 is 2; graph 'routed' has 2 branches (0..1)",
    );
    // I64 from a file arrives as an Int32Array with its dtype; F32 with dtype F32 is refused.
    const header = new TextEncoder().encode(
      JSON.stringify({ adapter_index: { dtype: 'I64', shape: [2], data_offsets: [0, 16] } }),
    );
    const file = new Uint8Array(8 + header.length + 16);
    new DataView(file.buffer).setBigUint64(0, BigInt(header.length), true);
    file.set(header, 8);
    new DataView(file.buffer).setBigInt64(8 + header.length + 8, 1n, true);
    const fromFile = loadSafetensors(file, 'index.safetensors').get('adapter_index')!;
    expect(fromFile.dtype).toBe('I64');
    const routed = await run(fromFile);
    const direct = await run({ data: Int32Array.from([0, 1]), shape: [2] });
    expect([...routed.hidden_states.data]).toEqual([...direct.hidden_states.data]);
    await expectError(
      () => run({ data: Int32Array.from([0, 1]), shape: [2], dtype: 'F32' }),
      InputError,
      "tensor 'adapter_index': has dtype F32; it must have an integer dtype (I8..I64, U8..U64)",
    );
  });

  it('needs a floating-point dtype for hidden_states; F16 is converted', async () => {
    const model = await cpuModel();
    await expectError(
      () => model.run({ hidden_states: { data: new Int32Array(8), shape: [1, 1, 8] } }),
      InputError,
      "tensor 'hidden_states': has dtype Int32Array; hidden states must be floating point (F32, F16 or BF16)",
    );
    await expectError(
      () =>
        model.run({ hidden_states: { data: new Float32Array(8), shape: [1, 1, 8], dtype: 'I32' } }),
      InputError,
      "tensor 'hidden_states': has dtype I32; hidden states must be floating point (F32, F16 or BF16)",
    );
    const halves = Float32Array.from([0.5, -1, 2, 0.25, 1, -0.5, 3, -2]);
    const f16 = await model.run({
      hidden_states: { data: halves, shape: [1, 1, 8], dtype: 'F16' },
    });
    const f32 = await model.run({ hidden_states: { data: halves, shape: [1, 1, 8] } });
    expect([...f16.hidden_states.data]).toEqual([...f32.hidden_states.data]);
  });

  it('takes one model prefix per weight file, and names a tensor of each kind in a mix', async () => {
    const rt = await Runtime.create({ backend: 'cpu' });
    const p = program();
    const weights = initWeights(p, nextSeed());
    const names = [...weights.keys()];
    const prefixed = (prefix: (i: number) => string) =>
      new Map([...weights].map(([name, t], i) => [`${prefix(i)}${name}`, t]));
    const reference = await (await rt.load(p, weights)).run({ hidden_states: hidden(1, 2) });
    expect(reference.hidden_states.shape).toEqual([1, 2, 8]);
    await rt.load(
      p,
      prefixed(() => 'roberta.'),
    );
    await expectError(
      () =>
        rt.load(
          p,
          prefixed((i) => (i === 3 ? '' : 'bert.')),
        ),
      WeightError,
      `one model prefix for the whole file, or none: tensor 'bert.${names[0]}' carries 'bert.', but tensor '${names[3]}' carries no prefix`,
    );
    await expectError(
      () =>
        rt.load(
          p,
          prefixed((i) => (i === 0 ? 'roberta.' : 'bert.')),
        ),
      WeightError,
      `one model prefix for the whole file, or none: tensor 'roberta.${names[0]}' carries 'roberta.', but tensor 'bert.${names[1]}' carries 'bert.'`,
    );
    // Two files, one prefixed and one not, are two files: each has one prefix.
    const base = new Map(
      [...weights].filter(([n]) => !n.includes('adapter')).map(([n, t]) => [`bert.${n}`, t]),
    );
    const adapters = new Map([...weights].filter(([n]) => n.includes('adapter')));
    const split = await (await rt.load(p, [base, adapters])).run({ hidden_states: hidden(1, 2) });
    expect(split.hidden_states.shape).toEqual([1, 2, 8]);
  });

  it('takes seeds of 32 bits and nothing else', async () => {
    const p = program();
    for (const seed of [-1, 2 ** 32, 1.5, NaN, '7', null]) {
      await expectError(
        () => initWeights(p, seed as number),
        ArgumentError,
        /^seed must be an integer in 0\.\.4294967295, got /,
      );
      await expectError(
        () => randomInputs(p, 1, 2, seed as number),
        ArgumentError,
        /^seed must be an integer in 0\.\.4294967295/,
      );
    }
    const last = initWeights(p, 2 ** 32 - 1).get(p.weights[2]!.name)!.data;
    const first = initWeights(p, 0).get(p.weights[2]!.name)!.data;
    expect(last.some((v, i) => v !== first[i])).toBe(true);
    await expectError(
      () => randomInputs(p, 0, 2, 1),
      ArgumentError,
      'batch must be an integer of at least 1, got 0',
    );
  });
});

describe('memory is estimated before it is allocated', () => {
  it('estimates weights, inputs and activations at the run sizes', () => {
    const p = program();
    // The weights and what the fusion computes from them at load (W_Kᵀ·W_Q, W_Kᵀ·b_Q).
    const atLoad = p.nodes.filter((node) => node.op === 'weight_product');
    expect(atLoad.length).toBeGreaterThan(0);
    const weightElements = [...p.weights, ...atLoad].reduce(
      (n, w) => n + elementCount(w.shape as readonly number[]),
      0,
    );
    const small = estimateMemory(p, { batch: 2, seq: 3 });
    expect(small.weightBytes).toBe(4 * weightElements);
    expect(small.inputBytes).toBe(4 * (2 * 3 * 8 + 2 * 3));
    expect(small.totalBytes).toBe(small.weightBytes + small.inputBytes + small.activationBytes);
    // Every activation here is per token, so ten times the tokens is ten times the bytes.
    const large = estimateMemory(p, { batch: 2, seq: 30 }, 'cpu');
    expect(large.activationBytes).toBe(
      10 * estimateMemory(p, { batch: 2, seq: 3 }, 'cpu').activationBytes,
    );
    // The planned GPU buffers are per token too.
    const gpu = (seq: number) => estimateMemory(p, { batch: 2, seq }, 'webgpu').activationBytes;
    expect(gpu(30)).toBe(10 * gpu(3));
    expect(large.largestBuffer).toEqual({
      name: expect.stringMatching(/^%\d+ linear/),
      bytes: 2 * 30 * 16 * 4,
    });
  });

  it('writes sizes in binary units', () => {
    expect(formatBytes(512)).toBe('512 B');
    expect(formatBytes(27 * 2 ** 20)).toBe('27.0 MiB');
    expect(formatBytes(3.2e12)).toBe('2.9 TiB');
    expect(formatBytes(1536)).toBe('1.5 KiB');
  });

  it('refuses what would pass the memory limit or a typed array, naming the sizes', async () => {
    const p = program();
    await expectError(
      () => randomInputs(p, 2 ** 16, 2 ** 16, 1),
      ResourceError,
      "random inputs of batch 65536, seq 65536: tensor 'hidden_states' would hold 34359738368 elements (128.0 GiB); one tensor holds at most 4294967296 elements",
    );
    await expectError(
      () => randomInputs(p, 64, 64, 1, { memoryLimitBytes: 65536 }),
      ResourceError,
      'random inputs of batch 64, seq 64 needs 144.0 KiB (weights 0 B, inputs 144.0 KiB, activations 0 B), more than the memory limit of 64.0 KiB',
    );
    // initWeights allocates the manifest's weights only.
    const weightBytes = 4 * p.weights.reduce((n, w) => n + elementCount(w.shape), 0);
    await expectError(
      () => initWeights(p, 1, { memoryLimitBytes: 1024 }),
      ResourceError,
      `the weights of graph 'default' needs ${formatBytes(weightBytes)} (weights ${formatBytes(weightBytes)}, inputs 0 B, activations 0 B), more than the memory limit of 1.0 KiB`,
    );
    const tight = await Runtime.create({ backend: 'cpu', memoryLimitBytes: weightBytes + 4096 });
    const model = await tight.load(p, initWeights(p, nextSeed()));
    await model.run({ hidden_states: hidden(1, 2) });
    await expectError(
      () => model.run({ hidden_states: hidden(4, 64) }),
      ResourceError,
      /^graph 'default' at batch 4, seq 64 needs \d+\.\d KiB \(weights .*, inputs 9\.0 KiB, activations .*\), more than the memory limit of /,
    );
    const tiny = await Runtime.create({ backend: 'cpu', memoryLimitBytes: 100 });
    await expectError(
      () => tiny.load(p, initWeights(p, 1)),
      ResourceError,
      /^the weights of graph 'default' needs /,
    );
  });
});

describe('programs from elsewhere are validated', () => {
  it('knows a rule for exactly the ops the CPU backend runs', () => {
    expect([...COMPUTE_OPS].sort()).toEqual(Object.keys(CPU_KERNELS).sort());
  });

  it('accepts every program the compiler emits, fused or not', () => {
    for (const graph of ['default', 'routed']) {
      for (const fuse of [true, false]) {
        const p = program(graph, fuse);
        const valid = validateProgram(JSON.parse(JSON.stringify(p)));
        expect(JSON.parse(JSON.stringify(valid))).toEqual(JSON.parse(JSON.stringify(p)));
      }
    }
  });

  const base = program();
  const json = JSON.stringify(base);
  /** The program JSON with the value at `path` replaced, or deleted when `value` is undefined. */
  const edit = (source: string, path: readonly (string | number)[], value: unknown): unknown => {
    const copy: unknown = JSON.parse(source);
    const parent = path
      .slice(0, -1)
      .reduce<unknown>((at, key) => Reflect.get(at as object, key), copy);
    const key = path[path.length - 1]!;
    if (value === undefined) Reflect.deleteProperty(parent as object, key);
    else Reflect.set(parent as object, key, value);
    return copy;
  };
  const nodeOf = (op: string) => base.nodes.findIndex((n) => n.op === op);
  const linear = nodeOf('linear');
  const outputBuffer = base.gpu!.outputs[0]!.buffer;

  it.each<[string, (string | number)[], unknown, string | RegExp]>([
    [
      'a later input',
      ['nodes', linear, 'inputs', 0],
      linear + 3,
      `program.nodes[${linear}].inputs[0]: refers to node ${linear + 3}, which comes later`,
    ],
    ['a null node', ['nodes', 4], null, 'program.nodes[4]: must be an object, got null'],
    [
      'a deleted node',
      ['nodes', 4],
      undefined,
      'program.nodes[4]: must be an object, got undefined',
    ],
    ['no outputs', ['outputs'], [], 'program.outputs: must name at least one output'],
    ['no nodes', ['nodes'], undefined, 'program.nodes: must be an array, got undefined'],
    [
      'heads not dividing hidden',
      ['model', 'heads'],
      3,
      'program.model.heads: 3 does not divide hidden (8)',
    ],
    [
      'an unknown dtype',
      ['nodes', linear, 'dtype'],
      'f64',
      `program.nodes[${linear}].dtype: must be 'f32' or 'i32', got the string "f64"`,
    ],
    [
      'an unknown target',
      ['gpu', 'target'],
      'tpu',
      `program.gpu.target: must be 'software' or 'gpu', got the string "tpu"`,
    ],
    [
      'a prototype op',
      ['nodes', linear, 'op'],
      'constructor',
      `program.nodes[${linear}].op: 'constructor' is not an op this runtime runs`,
    ],
    [
      'a shrunken weight',
      ['weights', 2, 'shape'],
      [2, 8],
      /^program\.nodes\[\d+\]\.shape: is \[8, 8\]; must be \[2, 8\]$/,
    ],
    [
      'a shrunken node',
      ['nodes', linear, 'shape'],
      ['B', 'T', 4],
      /^program\.nodes\[\d+\]\.shape: is \[B, T, 4\], but linear of its inputs gives \[B, T, 8\]$/,
    ],
    [
      'a huge weight',
      ['weights', 2, 'shape'],
      [2 ** 20, 2 ** 20],
      'program.weights[2].shape: [1048576, 1048576] has 1099511627776 elements; one tensor holds at most 4294967296',
    ],
    [
      'a buffer out of range',
      ['gpu', 'dispatches', 1, 'args', 0],
      { kind: 'buffer', buffer: 99 },
      `program.gpu.dispatches[1].args[0].buffer: refers to buffer 99; there are ${base.gpu!.buffers.length} (0..${base.gpu!.buffers.length - 1})`,
    ],
    [
      'an output buffer too small',
      ['gpu', 'buffers', outputBuffer],
      { perToken: 7, perSequence: 0, fixed: 0, divide: 1 },
      `program.gpu.outputs[0].buffer: buffer ${outputBuffer} is too small for 'hidden_states' ["B","T",8]`,
    ],
    [
      'heads not dividing d in attention',
      ['nodes', nodeOf('attention'), 'attrs', 'heads'],
      3,
      /^program\.nodes\[\d+\]: attention: heads \(3\) must divide d \(8\)$/,
    ],
    [
      'an activation that is another op',
      ['nodes', linear, 'attrs', 'activation'],
      'matmul',
      /^program\.nodes\[\d+\]\.attrs\.activation: must be 'none' or 'identity' or 'relu'/,
    ],
    [
      'a mask read as f32',
      ['nodes', nodeOf('attention'), 'inputs', 3],
      0,
      /^program\.nodes\[\d+\]\.inputs\[3\]: node 0 is f32; attention reads i32 here$/,
    ],
    [
      'an input the runtime cannot feed',
      ['inputs', 1, 'name'],
      'token_ids',
      /^program\.inputs\[1\]\.name: 'token_ids' is not an input the runtime feeds/,
    ],
  ])('rejects %s', async (_, path, value, message) => {
    const mutated = edit(json, path, value);
    await expectError(() => validateProgram(mutated), ProgramError, message);
    const rt = await Runtime.create({ backend: 'cpu' });
    await expectError(() => rt.load(mutated, initWeights(base, 1)), ProgramError, message);
  });

  /** Every path to a value in the program JSON, but not inside WGSL text. */
  function paths(value: unknown, path: (string | number)[] = []): (string | number)[][] {
    if (typeof value !== 'object' || value === null) return [path];
    const keys = Array.isArray(value) ? value.map((_, i) => i) : Object.keys(value);
    return [
      path,
      ...keys.flatMap((key) => paths((value as Record<string, unknown>)[key], [...path, key])),
    ];
  }

  it('survives 12 mutations of each field of a random sample: a ProgramError, or a program that runs', async () => {
    const small = program('routed');
    const smallJson = JSON.stringify(small);
    const replacements: unknown[] = [
      undefined,
      null,
      'x',
      -1,
      0,
      1.5,
      2 ** 53,
      1e300,
      [],
      {},
      true,
      'B',
    ];
    const rt = await Runtime.create({ backend: 'cpu' });
    const all = paths(JSON.parse(smallJson)).filter(
      (p) => p.length > 0 && p[p.length - 1] !== 'wgsl',
    );
    const pick = seededUniform(nextSeed());
    const sample = all.filter(() => pick() < 160 / all.length);
    expect(all.length).toBeGreaterThan(1000);
    let rejected = 0;
    let ran = 0;
    for (const path of sample) {
      for (const replacement of replacements) {
        const copy = edit(smallJson, path, replacement);
        const outcome = await (async () => {
          const model = await rt.load(copy, initWeights(small, 3));
          const inputs = randomInputs(copy as Program, 2, 3, 5);
          return model.run(inputs);
        })().catch((error: unknown) => error);
        if (outcome instanceof Error) {
          if (!(outcome instanceof AdaptError))
            throw new Error(
              `${path.join('.')} = ${JSON.stringify(replacement)}: ${String(outcome.stack)}`,
            );
          rejected++;
        } else {
          ran++;
        }
      }
    }
    expect(rejected).toBeGreaterThan(ran);
    expect(ran).toBeGreaterThan(0);
    expect(rejected + ran).toBe(sample.length * replacements.length);
  });

  it('checks the inputs of a hand-made program before running it', () => {
    expect(() =>
      prepareInputs({ ...base, inputs: null } as never, { hidden_states: hidden(1, 1) }),
    ).toThrow(new ProgramError('program.inputs: must be an array, got null'));
  });
});

describe('weights files from elsewhere', () => {
  it('round-trips seeded weights through safetensors bit for bit', async () => {
    const p = program();
    const weights = initWeights(p, nextSeed());
    const bytes = saveSafetensors(
      [...weights].map(([name, t]) => [name, { shape: t.shape, data: t.data as Float32Array }]),
    );
    const rt = await Runtime.create({ backend: 'cpu' });
    const input = hidden(1, 3);
    const a = await (await rt.load(p, weights)).run({ hidden_states: input });
    const b = await (
      await rt.load(p, loadSafetensors(bytes, 'w.safetensors'))
    ).run({ hidden_states: input });
    expect([...b.hidden_states.data]).toEqual([...a.hidden_states.data]);
  });
});

describe('values of the caller that misbehave when read', () => {
  const throwingGetter = (error: Error) => ({
    get hidden_states(): never {
      throw error;
    },
  });

  it('turns a getter or proxy that throws into the runtime own error', async () => {
    const model = await cpuModel();
    await expectError(
      () => model.run(throwingGetter(new Error('boom')) as never),
      ArgumentError,
      "the run's inputs or options: reading it threw Error: boom",
    );
    const trap = new Proxy(
      {},
      {
        ownKeys: () => {
          throw new RangeError('trap');
        },
      },
    );
    await expectError(() => model.run(trap as never), ArgumentError, /RangeError: trap/);
    const tensor = {
      shape: [1, 1, 8],
      get data(): never {
        throw new TypeError('t');
      },
    };
    await expectError(
      () => model.run({ hidden_states: tensor } as never),
      ArgumentError,
      /TypeError: t/,
    );
    const p = program();
    const weights = new Map(initWeights(p, 1));
    const name = [...weights.keys()][0]!;
    weights.set(
      name,
      new Proxy(weights.get(name)!, {
        get: () => {
          throw new TypeError('w');
        },
      }),
    );
    const rt = await Runtime.create({ backend: 'cpu' });
    await expectError(
      () => rt.load(p, weights),
      ArgumentError,
      'the weights: reading it threw TypeError: w',
    );
    const getter = {
      ...structuredClone(p),
      get model(): never {
        throw new RangeError('m');
      },
    };
    await expectError(
      () => rt.load(getter, initWeights(p, 1)),
      ProgramError,
      'program: cannot be read: reading it threw RangeError: m',
    );
    await expectError(
      () =>
        Runtime.create({
          get backend(): never {
            throw new Error('b');
          },
        }),
      ArgumentError,
      'Runtime.create options: reading it threw Error: b',
    );
  });

  it('reads attributes nested past the stack as a ProgramError, and copies only flat ones', () => {
    const p = structuredClone(program()) as unknown as {
      nodes: { attrs: Record<string, unknown> }[];
    };
    let deep: unknown[] = [];
    for (let i = 0; i < 200_000; i++) deep = [deep];
    p.nodes[4]!.attrs.extra = deep;
    expect(() => validateProgram(p)).toThrow(ProgramError);
    p.nodes[4]!.attrs.extra = [1, 'two'];
    expect(() => validateProgram(p)).toThrow(
      new ProgramError(
        'program.nodes[4].attrs.extra[1]: must be a number, as attribute arrays hold numbers or strings; got the string "two"',
      ),
    );
    p.nodes[4]!.attrs.extra = { nested: true };
    expect(() => validateProgram(p)).toThrow(/program\.nodes\[4\]\.attrs\.extra: must be an array/);
  });

  it('checks a GPU object before asking it for an adapter, and wraps what it throws', async () => {
    await expectError(
      () => Runtime.create({ backend: 'webgpu', gpu: {} as GPU }),
      ArgumentError,
      'gpu must be a GPU object such as navigator.gpu, with requestAdapter(), got an object',
    );
    const throwing = {
      requestAdapter: () => {
        throw new TypeError('no');
      },
    } as unknown as GPU;
    await expectError(
      () => Runtime.create({ backend: 'webgpu', gpu: throwing }),
      AdaptError,
      'cannot open a WebGPU device: no',
    );
    const odd = { requestAdapter: async () => 5 } as unknown as GPU;
    await expectError(
      () => Runtime.create({ backend: 'webgpu', gpu: odd }),
      AdaptError,
      /^cannot open a WebGPU device/,
    );
  });
});

describe('options and shapes are checked, not ignored', () => {
  it('refuses a misspelled option', async () => {
    await expectError(
      () => Runtime.create({ backend: 'cpu', memoryLimit: 5 } as never),
      ArgumentError,
      "Runtime.create options: unknown option 'memoryLimit' (known: 'backend', 'gpu', 'onNotice', 'memoryLimitBytes', 'runTimeoutMs')",
    );
    const model = await cpuModel();
    await expectError(
      () => model.run({ hidden_states: hidden(1, 2) }, { allowNonFinit: true } as never),
      ArgumentError,
      "run options: unknown option 'allowNonFinit' (known: 'allowNonFinite')",
    );
    expect(() => initWeights(program(), 1, { memoryLimitbytes: 1 } as never)).toThrow(
      ArgumentError,
    );
    expect(() => randomInputs(program(), 1, 1, 1, { limit: 1 } as never)).toThrow(ArgumentError);
  });

  it('estimates memory only for a real run shape and backend', () => {
    const p = program();
    expect(() => estimateMemory(p, null as never)).toThrow(
      new ArgumentError('estimateMemory shape must be an object, got null'),
    );
    expect(() => estimateMemory(p, { batch: -1, seq: 'x' } as never)).toThrow(
      new ArgumentError('estimateMemory shape.batch must be an integer of at least 1, got -1'),
    );
    expect(() => estimateMemory(p, { batch: 1, seq: 1 }, 'tpu' as never)).toThrow(ArgumentError);
  });
});

describe('GPU plans that would keep the device busy for nothing', () => {
  it('refuses a dispatch with more workgroups than the elements of every buffer it binds', () => {
    const p = structuredClone(program()) as unknown as {
      gpu: { dispatches: { groups: Record<string, number> }[] };
    };
    p.gpu.dispatches[0]!.groups = { perToken: 0, perSequence: 0, fixed: 1e9, divide: 1 };
    expect(() => validateProgram(p)).toThrow(
      new ProgramError(
        'program.gpu.dispatches[0].groups: launches more workgroups than any activation buffer it binds has elements',
      ),
    );
  });

  it('accepts every dispatch the compiler plans, fused or not, for both targets', () => {
    for (const graph of ['default', 'routed'])
      for (const fuse of [true, false])
        for (const target of ['gpu', 'software'] as const) {
          const result = compile(SPEC, { fileName: 'spec.adapt', graph, fuse, target });
          expect(() => validateProgram(JSON.parse(JSON.stringify(result.program)))).not.toThrow();
        }
  });
});
