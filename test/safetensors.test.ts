import { describe, expect, it } from 'vitest';
import { AdaptError, ArgumentError } from '../src/runtime/errors.js';
import {
  SafetensorsError,
  halfToFloat,
  loadSafetensors,
  readSafetensors,
  saveSafetensors,
  type Tensor,
} from '../src/runtime/safetensors.js';

const FILE = 'weights.safetensors';

/** Builds a file by hand: a header object (or raw header text) and a data buffer. */
function makeFile(
  header: object | string,
  data: Uint8Array | number = 0,
  headerLength?: number,
): Uint8Array {
  const text = typeof header === 'string' ? header : JSON.stringify(header);
  return makeRawFile(new TextEncoder().encode(text), data, headerLength);
}

function makeRawFile(
  headerBytes: Uint8Array,
  data: Uint8Array | number = 0,
  headerLength = headerBytes.byteLength,
): Uint8Array {
  const dataBytes = typeof data === 'number' ? new Uint8Array(data) : data;
  const out = new Uint8Array(8 + headerBytes.byteLength + dataBytes.byteLength);
  new DataView(out.buffer).setBigUint64(0, BigInt(headerLength), true);
  out.set(headerBytes, 8);
  out.set(dataBytes, 8 + headerBytes.byteLength);
  return out;
}

function le16(values: number[]): Uint8Array {
  const view = new DataView(new ArrayBuffer(values.length * 2));
  values.forEach((v, i) => view.setUint16(2 * i, v, true));
  return new Uint8Array(view.buffer);
}

function le64(values: bigint[]): Uint8Array {
  const view = new DataView(new ArrayBuffer(values.length * 8));
  values.forEach((v, i) => view.setBigInt64(8 * i, v, true));
  return new Uint8Array(view.buffer);
}

function load(bytes: Uint8Array): Map<string, Tensor> {
  return loadSafetensors(bytes, FILE);
}

function tensorOf(map: Map<string, Tensor>, name: string): Tensor {
  const t = map.get(name);
  if (t === undefined) throw new Error(`missing ${name}`);
  return t;
}

/** Asserts that loading throws a SafetensorsError matching `pattern`, naming `tensor` if given. */
function expectLoadError(bytes: Uint8Array, pattern: RegExp, tensor?: string): void {
  let caught: unknown;
  try {
    load(bytes);
  } catch (e) {
    caught = e;
  }
  expect(caught).toBeInstanceOf(SafetensorsError);
  const error = caught as SafetensorsError;
  expect(error.message).toMatch(pattern);
  expect(error.message.startsWith(`${FILE}: `)).toBe(true);
  expect(error.file).toBe(FILE);
  expect(error.tensor).toBe(tensor);
  expect(() => load(bytes)).toThrow(pattern);
}

const f32 = (shape: number[], begin: number, end: number) => ({
  dtype: 'F32',
  shape,
  data_offsets: [begin, end],
});

describe('saveSafetensors / loadSafetensors round trip', () => {
  it('round-trips F32 and I32 tensors, including a scalar and an empty tensor', () => {
    const bytes = saveSafetensors({
      'b.weight': { shape: [2, 3], data: new Float32Array([1, -2.5, 3.25, 1e-30, 65504, -0]) },
      'a.index': { shape: [4], data: new Int32Array([0, -1, 2147483647, -2147483648]) },
      scalar: { shape: [], data: new Float32Array([42.5]) },
      empty: { shape: [3, 0], data: new Float32Array(0) },
      'empty.int': { shape: [0], data: new Int32Array(0) },
    });
    const map = load(bytes);
    expect([...map.keys()].sort()).toEqual(['a.index', 'b.weight', 'empty', 'empty.int', 'scalar']);

    const w = tensorOf(map, 'b.weight');
    expect(w.dtype).toBe('F32');
    expect(w.shape).toEqual([2, 3]);
    expect(w.data).toBeInstanceOf(Float32Array);
    expect([...w.data]).toEqual([1, -2.5, 3.25, Math.fround(1e-30), 65504, -0]);
    expect(Object.is(w.data[5], -0)).toBe(true);

    const idx = tensorOf(map, 'a.index');
    expect(idx.dtype).toBe('I32');
    expect(idx.data).toBeInstanceOf(Int32Array);
    expect([...idx.data]).toEqual([0, -1, 2147483647, -2147483648]);

    const scalar = tensorOf(map, 'scalar');
    expect(scalar.shape).toEqual([]);
    expect([...scalar.data]).toEqual([42.5]);

    const empty = tensorOf(map, 'empty');
    expect(empty.shape).toEqual([3, 0]);
    expect(empty.data).toBeInstanceOf(Float32Array);
    expect(empty.data.length).toBe(0);
    expect(tensorOf(map, 'empty.int').data).toBeInstanceOf(Int32Array);
  });

  it('writes the reference layout: padded header, sorted names, packed data', () => {
    const bytes = saveSafetensors(
      new Map([
        ['z', { shape: [1], data: new Int32Array([7]) }],
        ['a', { shape: [2], data: new Float32Array([1, 2]) }],
      ]),
    );
    const view = new DataView(bytes.buffer, bytes.byteOffset);
    const n = Number(view.getBigUint64(0, true));
    expect(n % 8).toBe(0);
    const text = new TextDecoder().decode(bytes.subarray(8, 8 + n));
    expect(text.trimEnd()).toBe(
      '{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},' +
        '"z":{"dtype":"I32","shape":[1],"data_offsets":[8,12]}}',
    );
    expect(text.slice(text.trimEnd().length)).toMatch(/^ *$/);
    expect(bytes.byteLength).toBe(8 + n + 12);
  });

  it('round-trips metadata', () => {
    const metadata = { format: 'pt', note: 'héllo "quoted" ✓' };
    const bytes = saveSafetensors({ x: { shape: [1], data: new Float32Array([1]) } }, metadata);
    const file = readSafetensors(bytes, FILE);
    expect(file.metadata).toEqual(metadata);
    expect([...file.tensors.keys()]).toEqual(['x']);
    expect(readSafetensors(saveSafetensors({})).metadata).toBeUndefined();
  });

  it('accepts an iterable of entries and a tensor named __proto__', () => {
    const bytes = saveSafetensors([['__proto__', { shape: [1], data: new Float32Array([3]) }]]);
    expect([...tensorOf(load(bytes), '__proto__').data]).toEqual([3]);
  });

  it('reads a view with a nonzero byteOffset into a larger buffer', () => {
    const file = saveSafetensors({
      x: { shape: [3], data: new Float32Array([1.5, 2.5, 3.5]) },
      i: { shape: [2], data: new Int32Array([-4, 5]) },
    });
    const big = new Uint8Array(file.byteLength + 10);
    big.set(file, 3);
    const view = big.subarray(3, 3 + file.byteLength);
    const map = load(view);
    expect([...tensorOf(map, 'x').data]).toEqual([1.5, 2.5, 3.5]);
    expect([...tensorOf(map, 'i').data]).toEqual([-4, 5]);
  });

  it('reads a Node Buffer, whose slice() returns a view into a shared pool', () => {
    const file = saveSafetensors({ x: { shape: [2], data: new Float32Array([1.5, -3]) } });
    const buffer = Buffer.from(file);
    const t = tensorOf(load(buffer), 'x');
    expect([...t.data]).toEqual([1.5, -3]);
    buffer.fill(0);
    expect([...t.data]).toEqual([1.5, -3]);
  });

  it('reads tensors at unaligned data offsets', () => {
    const data = new Uint8Array(1 + 8);
    new DataView(data.buffer).setFloat32(1, -7.25, true);
    new DataView(data.buffer).setInt32(5, -123456, true);
    const map = load(
      makeFile(
        {
          pad: { dtype: 'U8', shape: [1], data_offsets: [0, 1] },
          f: f32([1], 1, 5),
          i: { dtype: 'I32', shape: [1], data_offsets: [5, 9] },
        },
        data,
      ),
    );
    expect([...tensorOf(map, 'f').data]).toEqual([-7.25]);
    expect([...tensorOf(map, 'i').data]).toEqual([-123456]);
  });

  it('copies data out of the input bytes', () => {
    const bytes = saveSafetensors({ x: { shape: [1], data: new Float32Array([1]) } });
    const t = tensorOf(load(bytes), 'x');
    bytes.fill(0, bytes.byteLength - 4);
    expect([...t.data]).toEqual([1]);
  });

  it('reads a tensor at an unaligned offset in a larger buffer', () => {
    const data = new Uint8Array(12);
    new DataView(data.buffer).setFloat32(1, 9, true);
    new DataView(data.buffer).setFloat32(5, -2.5, true);
    const map = load(
      makeFile(
        {
          b: { dtype: 'U8', shape: [1], data_offsets: [0, 1] },
          x: f32([2], 1, 9),
          c: { dtype: 'U8', shape: [3], data_offsets: [9, 12] },
        },
        data,
      ),
    );
    expect([...tensorOf(map, 'x').data]).toEqual([9, -2.5]);
  });
});

describe('the data section is covered exactly', () => {
  it('rejects bytes before the first tensor', () => {
    expectLoadError(
      makeFile({ x: f32([1], 8, 12) }, 12),
      /^weights\.safetensors: tensor 'x': starts at byte 8, but the data starts at 0: bytes \[0, 8\) belong to no tensor$/,
      'x',
    );
  });

  it('rejects a hole between two tensors and names the tensor after it', () => {
    expectLoadError(
      makeFile({ a: f32([2], 0, 8), b: f32([1], 12, 16) }, 16),
      /tensor 'b': starts at byte 12, but tensor 'a' ends at 8: bytes \[8, 12\) belong to no tensor$/,
      'b',
    );
  });

  it('rejects trailing bytes after the last tensor', () => {
    expectLoadError(
      makeFile({ a: f32([2], 0, 8) }, 11),
      /^weights\.safetensors: 3 bytes after the tensors: the data section is 11 bytes, but the last tensor \('a'\) ends at 8$/,
    );
    expectLoadError(
      makeFile({}, 4),
      /4 bytes after the tensors: the data section is 4 bytes, but no tensor/,
    );
  });

  it('rejects a tensor inside another one even when the ends line up', () => {
    expectLoadError(
      makeFile({ a: f32([4], 0, 16), b: f32([2], 8, 16) }, 16),
      /tensor 'b': overlaps tensor 'a' \(bytes \[8, 16\) and \[0, 16\)\)/,
      'b',
    );
  });
});

describe('strict header JSON', () => {
  it('rejects a key repeated inside a tensor entry, naming the tensor', () => {
    const header = '{"w": {"dtype": "I32", "dtype": "F32", "shape": [1], "data_offsets": [0, 4]}}';
    expectLoadError(
      makeFile(header, 4),
      /^weights\.safetensors: tensor 'w': key 'dtype' appears more than once$/,
      'w',
    );
  });

  it('rejects a key repeated inside __metadata__', () => {
    const header = '{"__metadata__": {"format": "pt", "format": "np"}}';
    expectLoadError(
      makeFile(header),
      /^weights\.safetensors: header: __metadata__: key 'format' appears more than once$/,
    );
  });

  it('allows one key in sibling objects', () => {
    const header =
      '{"a": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]},' +
      ' "b": {"dtype": "F32", "shape": [1], "data_offsets": [4, 8]}}';
    expect([...load(makeFile(header, 8)).keys()]).toEqual(['a', 'b']);
  });

  it('rejects shapes whose element count is not a safe integer', () => {
    expectLoadError(
      makeFile({ w: f32([2 ** 40, 2 ** 40], 0, 4) }, 4),
      /tensor 'w': data_offsets cover 4 bytes but shape \[1099511627776, 1099511627776\] of F32 needs/,
      'w',
    );
  });
});

describe('loadSafetensors arguments', () => {
  it.each([
    [null, 'null'],
    ['weights.safetensors', 'the string "weights.safetensors"'],
    [[1, 2, 3], 'an array'],
    [new Float32Array(4), 'a Float32Array'],
    [{ length: 8 }, 'an object'],
  ])('rejects %s with an ArgumentError', (value, shown) => {
    const call = () => loadSafetensors(value as unknown as Uint8Array, FILE);
    expect(call).toThrow(ArgumentError);
    expect(call).toThrow(
      `${FILE}: a safetensors file must be given as a Uint8Array or an ArrayBuffer, got ${shown}`,
    );
  });

  it('reads an ArrayBuffer and a Node Buffer alike', () => {
    const bytes = saveSafetensors({ x: { shape: [2], data: new Float32Array([1, -3]) } });
    const fromBuffer = loadSafetensors(Buffer.from(bytes), FILE);
    const copy = bytes.slice();
    const fromArrayBuffer = loadSafetensors(copy.buffer as unknown as Uint8Array, FILE);
    expect([...tensorOf(fromBuffer, 'x').data]).toEqual([1, -3]);
    expect([...tensorOf(fromArrayBuffer, 'x').data]).toEqual([1, -3]);
  });

  it('is an AdaptError, as every error the runtime throws', () => {
    let caught: unknown;
    try {
      load(new Uint8Array(3));
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(AdaptError);
    expect((caught as Error).name).toBe('SafetensorsError');
  });
});

describe('dtype decoding', () => {
  it('decodes F16 exactly', () => {
    const bits = [0x3c00, 0xc100, 0x7bff, 0x0001, 0x03ff, 0x7c00, 0xfc00, 0x7e00, 0x8000];
    const map = load(
      makeFile({ h: { dtype: 'F16', shape: [bits.length], data_offsets: [0, 18] } }, le16(bits)),
    );
    const t = tensorOf(map, 'h');
    expect(t.dtype).toBe('F16');
    expect(t.data).toBeInstanceOf(Float32Array);
    expect([...t.data]).toEqual([
      1,
      -2.5,
      65504,
      2 ** -24,
      1023 * 2 ** -24,
      Infinity,
      -Infinity,
      NaN,
      -0,
    ]);
    expect(Object.is(t.data[8], -0)).toBe(true);
  });

  it('halfToFloat covers every exponent class', () => {
    expect(halfToFloat(0x0000)).toBe(0);
    expect(halfToFloat(0x0400)).toBe(2 ** -14);
    expect(halfToFloat(0x3555)).toBe(0.333251953125);
    expect(halfToFloat(0x7c01)).toBeNaN();
  });

  it('decodes BF16 exactly', () => {
    const bits = [0x3f80, 0xc020, 0x477f, 0x7f7f, 0x0001, 0x7f80, 0xff80, 0x7fc0, 0x8000];
    const map = load(
      makeFile({ b: { dtype: 'BF16', shape: [3, 3], data_offsets: [0, 18] } }, le16(bits)),
    );
    const t = tensorOf(map, 'b');
    expect(t.dtype).toBe('BF16');
    expect(t.shape).toEqual([3, 3]);
    expect([...t.data]).toEqual([
      1,
      -2.5,
      65280,
      3.3895313892515355e38,
      2 ** -133,
      Infinity,
      -Infinity,
      NaN,
      -0,
    ]);
  });

  it('decodes I64 into Int32Array', () => {
    const values = [0n, -1n, 2147483647n, -2147483648n, 123456789n];
    const map = load(
      makeFile({ n: { dtype: 'I64', shape: [5], data_offsets: [0, 40] } }, le64(values)),
    );
    const t = tensorOf(map, 'n');
    expect(t.dtype).toBe('I64');
    expect(t.data).toBeInstanceOf(Int32Array);
    expect([...t.data]).toEqual([0, -1, 2147483647, -2147483648, 123456789]);
  });

  it.each([
    [2147483648n, '2147483648'],
    [-2147483649n, '-2147483649'],
    [4294967296n, '4294967296'],
    [-9223372036854775808n, '-9223372036854775808'],
  ])('rejects the I64 value %s that does not fit in int32', (value, text) => {
    const bytes = makeFile(
      { 'pos.ids': { dtype: 'I64', shape: [2], data_offsets: [0, 16] } },
      le64([1n, value]),
    );
    expectLoadError(
      bytes,
      new RegExp(`tensor 'pos\\.ids': I64 value ${text} at index 1 does not fit in int32`),
      'pos.ids',
    );
  });

  it('decodes I8, I16, U16 and U32 to Int32Array', () => {
    const data = new Uint8Array(2 + 4 + 4 + 8);
    const view = new DataView(data.buffer);
    view.setInt8(0, -128);
    view.setInt8(1, 127);
    view.setInt16(2, -32768, true);
    view.setInt16(4, 12345, true);
    view.setUint16(6, 65535, true);
    view.setUint16(8, 3, true);
    view.setUint32(10, 2147483647, true);
    view.setUint32(14, 7, true);
    const map = load(
      makeFile(
        {
          a: { dtype: 'I8', shape: [2], data_offsets: [0, 2] },
          b: { dtype: 'I16', shape: [2], data_offsets: [2, 6] },
          c: { dtype: 'U16', shape: [2], data_offsets: [6, 10] },
          d: { dtype: 'U32', shape: [2], data_offsets: [10, 18] },
        },
        data,
      ),
    );
    expect([...tensorOf(map, 'a').data]).toEqual([-128, 127]);
    expect([...tensorOf(map, 'b').data]).toEqual([-32768, 12345]);
    expect([...tensorOf(map, 'c').data]).toEqual([65535, 3]);
    expect([...tensorOf(map, 'd').data]).toEqual([2147483647, 7]);
    for (const name of ['a', 'b', 'c', 'd'])
      expect(tensorOf(map, name).data).toBeInstanceOf(Int32Array);
  });

  it('decodes U64 and rejects U32 and U64 values past int32', () => {
    const u64 = le64([5n, 2147483647n]);
    expect([
      ...tensorOf(
        load(makeFile({ i: { dtype: 'U64', shape: [2], data_offsets: [0, 16] } }, u64)),
        'i',
      ).data,
    ]).toEqual([5, 2147483647]);
    expectLoadError(
      makeFile({ i: { dtype: 'U64', shape: [1], data_offsets: [0, 8] } }, le64([4294967296n])),
      /tensor 'i': U64 value 4294967296 at index 0 does not fit in int32/,
      'i',
    );
    const u32 = new Uint8Array(4);
    new DataView(u32.buffer).setUint32(0, 2147483648, true);
    expectLoadError(
      makeFile({ i: { dtype: 'U32', shape: [1], data_offsets: [0, 4] } }, u32),
      /tensor 'i': U32 value 2147483648 at index 0 does not fit in int32/,
      'i',
    );
  });

  it('decodes U8', () => {
    const map = load(
      makeFile(
        { mask: { dtype: 'U8', shape: [2, 2], data_offsets: [0, 4] } },
        new Uint8Array([0, 1, 255, 7]),
      ),
    );
    const t = tensorOf(map, 'mask');
    expect(t.dtype).toBe('U8');
    expect(t.data).toBeInstanceOf(Uint8Array);
    expect([...t.data]).toEqual([0, 1, 255, 7]);
  });
});

describe('loadSafetensors errors', () => {
  const name = 'encoder.layer.0.output.dense.weight';
  const entry = (fields: object) => makeFile({ [name]: fields }, 24);
  const good = { dtype: 'F32', shape: [2, 3], data_offsets: [0, 24] };

  it('uses <memory> as the default file name', () => {
    expect(() => loadSafetensors(new Uint8Array(3))).toThrow(/^<memory>: file is 3 bytes/);
  });

  it('rejects a file shorter than 8 bytes', () => {
    expectLoadError(
      new Uint8Array(5),
      /^weights\.safetensors: file is 5 bytes, too short for the 8-byte header length$/,
    );
  });

  it('rejects a header length beyond the end of the file', () => {
    expectLoadError(
      makeFile('{}', 0, 100),
      /header: length 100 is beyond the end of the file \(only 2 bytes after the 8-byte length\)/,
    );
  });

  it('rejects an absurd header length', () => {
    expectLoadError(makeFile('{}', 0, 200_000_000), /header: length 200000000 is absurd/);
    expectLoadError(
      makeFile('{}', 0, 2 ** 60),
      /header: length 1152921504606846976 is absurd \(limit 100000000 bytes\)/,
    );
  });

  it('rejects a header that is not UTF-8', () => {
    expectLoadError(
      makeRawFile(new Uint8Array([0x7b, 0x22, 0xff, 0x22, 0x3a, 0x31, 0x7d])),
      /^weights\.safetensors: header: not valid UTF-8$/,
    );
  });

  it('rejects malformed JSON with the parser reason', () => {
    expectLoadError(makeFile('{"a": '), /header: not valid JSON: .*JSON/);
    expectLoadError(makeFile(''), /header: not valid JSON: \S/);
  });

  it.each([
    ['[]', 'array'],
    ['null', 'null'],
    ['42', 'number'],
    ['"x"', 'string'],
  ])('rejects the JSON header %s that is not an object', (text, kind) => {
    expectLoadError(makeFile(text), new RegExp(`header: must be a JSON object, got ${kind}$`));
  });

  it('rejects an entry that is not an object', () => {
    expectLoadError(
      makeFile({ [name]: [1, 2] }),
      /tensor 'encoder\.layer\.0\.output\.dense\.weight': entry must be an object, got array/,
      name,
    );
    expectLoadError(makeFile({ x: 'F32' }), /tensor 'x': entry must be an object, got string/, 'x');
  });

  it.each(['dtype', 'shape', 'data_offsets'])('rejects an entry missing %s', (field) => {
    const fields = Object.fromEntries(Object.entries(good).filter(([key]) => key !== field));
    expectLoadError(entry(fields), new RegExp(`tensor '${name}': missing ${field}$`), name);
  });

  it('rejects a dtype that is not a string', () => {
    expectLoadError(
      entry({ ...good, dtype: 4 }),
      /tensor '.*': dtype must be a string, got number/,
      name,
    );
  });

  it('rejects an unsupported dtype and lists the supported ones', () => {
    expectLoadError(
      entry({ ...good, dtype: 'F64' }),
      /unsupported dtype 'F64' \(supported: F32, F16, BF16, I8, I16, I32, I64, U8, U16, U32, U64\)/,
      name,
    );
  });

  it('rejects a shape that is not an array', () => {
    expectLoadError(
      entry({ ...good, shape: '2,3' }),
      /tensor '.*': shape must be an array, got string/,
      name,
    );
  });

  it.each([
    [[2, -3], 'shape\\[1\\] must be a non-negative integer, got -3'],
    [[2.5, 3], 'shape\\[0\\] must be a non-negative integer, got 2\\.5'],
    [[2, '3'], 'shape\\[1\\] must be a non-negative integer, got "3"'],
    [[null], 'shape\\[0\\] must be a non-negative integer, got null'],
  ])('rejects the bad shape %j', (shape, message) => {
    expectLoadError(entry({ ...good, shape }), new RegExp(message), name);
  });

  it.each([[[0]], [[0, 24, 48]], [[0, -24]], [[0, 2.5]], [['0', 24]], [{ begin: 0 }], [null]])(
    'rejects data_offsets %j',
    (offsets) => {
      expectLoadError(
        entry({ ...good, data_offsets: offsets }),
        /data_offsets must be two non-negative integers \[begin, end\], got /,
        name,
      );
    },
  );

  it('rejects data_offsets with begin > end', () => {
    expectLoadError(
      entry({ ...good, data_offsets: [24, 0] }),
      /tensor '.*': data_offsets \[24, 0\] have begin > end/,
      name,
    );
  });

  it('rejects data_offsets out of range of the data buffer', () => {
    expectLoadError(
      entry({ ...good, data_offsets: [8, 32] }),
      /data_offsets \[8, 32\] are out of range of the data buffer \(24 bytes\)/,
      name,
    );
  });

  it('rejects a byte count that does not match the shape and dtype', () => {
    expectLoadError(
      entry({ ...good, data_offsets: [0, 20] }),
      /tensor '.*': data_offsets cover 20 bytes but shape \[2, 3\] of F32 needs 24 bytes/,
      name,
    );
    expectLoadError(
      entry({ dtype: 'I64', shape: [2], data_offsets: [0, 8] }),
      /data_offsets cover 8 bytes but shape \[2\] of I64 needs 16 bytes/,
      name,
    );
  });

  it('rejects overlapping tensors and names both', () => {
    expectLoadError(
      makeFile({ a: f32([4], 0, 16), b: f32([4], 8, 24) }, 24),
      /tensor 'b': overlaps tensor 'a' \(bytes \[8, 24\) and \[0, 16\)\)/,
      'b',
    );
    // A tensor nested inside a larger one, after a tensor that ends earlier.
    expectLoadError(
      makeFile({ big: f32([4], 0, 16), x: f32([1], 4, 8), y: f32([1], 8, 12) }, 16),
      /tensor 'x': overlaps tensor 'big'/,
      'x',
    );
  });

  it('allows empty tensors at the same offset as others', () => {
    const map = load(makeFile({ a: f32([1], 0, 4), e: f32([0], 0, 0), e2: f32([0], 4, 4) }, 4));
    expect(map.size).toBe(3);
  });

  it('rejects duplicate tensor names', () => {
    const header =
      '{"w": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]},' +
      ' "w" : {"dtype": "F32", "shape": [1], "data_offsets": [4, 8]}}';
    expectLoadError(makeFile(header, 8), /tensor 'w': appears more than once in the header/, 'w');
  });

  it('finds duplicate names written with escapes and ignores nested repeated keys', () => {
    const header =
      '{"a\\"b": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]},' +
      ' "__metadata__": {"a\\"b": "a\\"b", "k": "{\\"w\\":"},' +
      ' "a\\u0022b": {"dtype": "F32", "shape": [1], "data_offsets": [4, 8]}}';
    expectLoadError(makeFile(header, 8), /tensor 'a"b': appears more than once/, 'a"b');

    const fine =
      '{"x": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]},' +
      ' "y": {"dtype": "F32", "shape": [1], "data_offsets": [4, 8]}, "__metadata__": {"x": "y"}}';
    expect(load(makeFile(fine, 8)).size).toBe(2);
  });

  it('rejects a duplicate __metadata__', () => {
    expectLoadError(
      makeFile('{"__metadata__": {}, "__metadata__": {}}'),
      /^weights\.safetensors: header: duplicate '__metadata__'$/,
    );
  });

  it('rejects __metadata__ that is not an object of strings', () => {
    expectLoadError(
      makeFile({ __metadata__: ['a'] }),
      /__metadata__ must be an object of strings, got array/,
    );
    expectLoadError(
      makeFile({ __metadata__: { format: 'pt', version: 2 } }),
      /__metadata__ value for 'version' must be a string, got number/,
    );
  });
});

describe('saveSafetensors errors', () => {
  it('rejects data that does not match the shape', () => {
    expect(() => saveSafetensors({ x: { shape: [2, 3], data: new Float32Array(5) } })).toThrow(
      /tensor 'x': shape \[2, 3\] has 6 elements but data has 5/,
    );
  });

  it('rejects bad dims, unsupported arrays, reserved and duplicate names', () => {
    expect(() => saveSafetensors({ x: { shape: [-1], data: new Float32Array(0) } })).toThrow(
      /shape\[0\] must be a non-negative integer, got -1/,
    );
    const bad = { shape: [1], data: new Float64Array(1) as unknown as Float32Array };
    expect(() => saveSafetensors({ x: bad })).toThrow(
      /data must be a Float32Array or an Int32Array/,
    );
    const one = { shape: [1], data: new Float32Array(1) };
    expect(() => saveSafetensors({ __metadata__: one })).toThrow(/not a valid tensor name/);
    expect(() =>
      saveSafetensors([
        ['x', one],
        ['x', one],
      ]),
    ).toThrow(SafetensorsError);
    expect(() => saveSafetensors({}, { n: 1 as unknown as string })).toThrow(
      /__metadata__ value for 'n' must be a string, got number/,
    );
  });
});

describe('what the reference reader refuses, refused with a reason', () => {
  const entry = { dtype: 'F32', shape: [1], data_offsets: [0, 4] };

  it('names a byte-order mark and NUL padding instead of a bare JSON error', () => {
    expect(() =>
      loadSafetensors(makeFile(`\uFEFF${JSON.stringify({ t: entry })}`, 4), FILE),
    ).toThrow(
      new SafetensorsError(FILE, 'header: starts with a byte-order mark; it must start with {'),
    );
    const padded = makeFile(`${JSON.stringify({ t: entry })}\0\0\0`, 4);
    expect(() => loadSafetensors(padded, FILE)).toThrow(
      new SafetensorsError(
        FILE,
        'header: ends in 3 NUL bytes; the format pads the header with spaces',
      ),
    );
    expect(loadSafetensors(makeFile(`${JSON.stringify({ t: entry })}   \t\n`, 4)).size).toBe(1);
  });

  it('rejects a field an entry does not have, flat or nested', () => {
    for (const extra of [{ foo: 1 }, { x: { y: {} } }]) {
      const key = Object.keys(extra)[0]!;
      expect(() => loadSafetensors(makeFile({ t: { ...entry, ...extra } }, 4), FILE)).toThrow(
        new SafetensorsError(
          FILE,
          `unknown field '${key}' (an entry has only dtype, shape, data_offsets)`,
          't',
        ),
      );
    }
  });

  it('says when an offset or dimension is past what a JSON number holds exactly', () => {
    const header =
      '{"t":{"dtype":"F32","shape":[1],"data_offsets":[9007199254740993,9007199254740997]}}';
    expect(() => loadSafetensors(makeFile(header, 4), FILE)).toThrow(
      /data_offsets must be two non-negative integers .* \(past 2\^53 - 1, where JSON numbers stop being exact\)$/,
    );
    const shape = '{"t":{"dtype":"F32","shape":[18014398509481984],"data_offsets":[0,4]}}';
    expect(() => loadSafetensors(makeFile(shape, 4), FILE)).toThrow(
      /shape\[0\] .*\(past 2\^53 - 1/,
    );
  });

  it('refuses a detached buffer as an ArgumentError', () => {
    const buffer = new ArrayBuffer(16);
    const view = new Uint8Array(buffer);
    structuredClone(buffer, { transfer: [buffer] });
    expect(() => loadSafetensors(view, FILE)).toThrow(ArgumentError);
    expect(() => loadSafetensors(buffer as unknown as Uint8Array, FILE)).toThrow(
      new ArgumentError(`${FILE}: the ArrayBuffer was detached (transferred)`),
    );
  });
});

describe('saveSafetensors arguments', () => {
  it('refuses values of the wrong kind with its own errors', () => {
    const save = (tensors: unknown, metadata?: unknown) => () =>
      saveSafetensors(tensors as never, metadata as never);
    expect(save(null)).toThrow(ArgumentError);
    expect(save({}, null)).toThrow(ArgumentError);
    expect(save({}, 5)).toThrow(ArgumentError);
    expect(save({ a: null })).toThrow(
      new SafetensorsError('<memory>', 'must be an object { shape, data }, got null', 'a'),
    );
    expect(save({ a: { shape: 5, data: new Float32Array(1) } })).toThrow(
      new SafetensorsError('<memory>', 'shape must be an array, got 5', 'a'),
    );
    expect(save([[1, 2]])).toThrow(AdaptError);
    const throwing = {
      get a(): never {
        throw new TypeError('boom');
      },
    };
    expect(save(throwing)).toThrow(
      new SafetensorsError('<memory>', 'reading it threw TypeError: boom'),
    );
  });
});
