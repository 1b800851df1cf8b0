import { existsSync, readFileSync } from 'node:fs';
import { crc32 } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { PytorchCheckpointError, loadPytorchStateDict } from '../src/runtime/pytorch/index.js';
import { loadSafetensors } from '../src/runtime/safetensors.js';

// Fixtures written by test/fixtures/pytorch/generate.py (torch.save of Debian's PyTorch).
const fixture = (name: string) =>
  new Uint8Array(readFileSync(new URL(`./fixtures/pytorch/${name}`, import.meta.url)));
const expectedValues = loadSafetensors(fixture('expected.safetensors'), 'expected.safetensors');
const expectedInfo = JSON.parse(new TextDecoder().decode(fixture('expected.json'))) as {
  pwned_marker: string;
  files: Record<string, Record<string, { dtype: string; shape: number[] }>>;
};

function expectFromGenerator(file: string): void {
  const tensors = loadPytorchStateDict(fixture(file), file);
  const info = expectedInfo.files[file]!;
  expect([...tensors.keys()].sort()).toEqual(Object.keys(info).sort());
  for (const [name, tensor] of tensors) {
    const expected = expectedValues.get(`${file}/${name}`)!;
    expect({ name, dtype: tensor.dtype, shape: tensor.shape }).toEqual({ name, ...info[name] });
    expect(tensor.shape).toEqual(expected.shape);
    expect(Array.from(tensor.data), name).toEqual(Array.from(expected.data));
    const kind = ['F32', 'F16', 'BF16'].includes(tensor.dtype)
      ? Float32Array
      : tensor.dtype === 'U8'
        ? Uint8Array
        : Int32Array;
    expect(tensor.data).toBeInstanceOf(kind);
  }
}

function errorOf(action: () => unknown): PytorchCheckpointError {
  try {
    action();
  } catch (error) {
    expect(error).toBeInstanceOf(PytorchCheckpointError);
    return error as PytorchCheckpointError;
  }
  throw new Error('expected an error');
}

// ---------------------------------------------------------------------------------------------
// A stored-zip writer and pickle pieces, for archives torch.save would not write.

function le(size: 2 | 4 | 8, value: number): number[] {
  const bytes = new Uint8Array(size);
  const view = new DataView(bytes.buffer);
  if (size === 2) view.setUint16(0, value, true);
  else if (size === 4) view.setUint32(0, value, true);
  else view.setBigUint64(0, BigInt(value), true);
  return [...bytes];
}

function buildZip(entries: [string, Uint8Array][], zip64 = false): Uint8Array {
  const out: number[] = [];
  const central: number[] = [];
  const U32 = 0xffffffff;
  for (const [name, data] of entries) {
    const nameBytes = [...new TextEncoder().encode(name)];
    const offset = out.length;
    const crc = crc32(data);
    const size32 = zip64 ? U32 : data.length;
    const localExtra = zip64
      ? [...le(2, 1), ...le(2, 16), ...le(8, data.length), ...le(8, data.length)]
      : [];
    out.push(...le(4, 0x04034b50), ...le(2, 45), ...le(2, 0), ...le(2, 0), ...le(4, 0));
    out.push(...le(4, crc), ...le(4, size32), ...le(4, size32));
    out.push(...le(2, nameBytes.length), ...le(2, localExtra.length), ...nameBytes, ...localExtra);
    out.push(...data);
    const extra = zip64
      ? [...le(2, 1), ...le(2, 24), ...le(8, data.length), ...le(8, data.length), ...le(8, offset)]
      : [];
    central.push(...le(4, 0x02014b50), ...le(2, 45), ...le(2, 45), ...le(2, 0), ...le(2, 0));
    central.push(...le(4, 0), ...le(4, crc), ...le(4, size32), ...le(4, size32));
    central.push(...le(2, nameBytes.length), ...le(2, extra.length), ...le(2, 0), ...le(2, 0));
    central.push(...le(2, 0), ...le(4, 0), ...le(4, zip64 ? U32 : offset), ...nameBytes, ...extra);
  }
  const directoryOffset = out.length;
  out.push(...central);
  if (zip64) {
    const record = out.length;
    out.push(
      ...le(4, 0x06064b50),
      ...le(8, 44),
      ...le(2, 45),
      ...le(2, 45),
      ...le(4, 0),
      ...le(4, 0),
    );
    out.push(...le(8, entries.length), ...le(8, entries.length));
    out.push(...le(8, central.length), ...le(8, directoryOffset));
    out.push(...le(4, 0x07064b50), ...le(4, 0), ...le(8, record), ...le(4, 1));
  }
  out.push(...le(4, 0x06054b50), ...le(2, 0), ...le(2, 0));
  out.push(...le(2, zip64 ? 0xffff : entries.length), ...le(2, zip64 ? 0xffff : entries.length));
  out.push(
    ...le(4, zip64 ? U32 : central.length),
    ...le(4, zip64 ? U32 : directoryOffset),
    ...le(2, 0),
  );
  return new Uint8Array(out);
}

const text = (s: string) => [...new TextEncoder().encode(s)];
const unicode = (s: string) => [0x58, ...le(4, text(s).length), ...text(s)];
const global = (module: string, name: string) => [0x63, ...text(`${module}\n${name}\n`)];

/** `{name: _rebuild_tensor_v2(storage '0', offset, size, stride, False, OrderedDict())}`. */
function tensorPickle(
  name: string,
  storage: string,
  numel: number,
  offset: number,
  size: number[],
  stride: number[],
): Uint8Array {
  const tuple = (items: number[]) => [0x28, ...items.flatMap((n) => [0x4b, n]), 0x74];
  return new Uint8Array([
    0x80,
    0x02,
    0x7d,
    ...unicode(name),
    ...global('torch._utils', '_rebuild_tensor_v2'),
    0x28,
    0x28,
    ...unicode('storage'),
    ...global('torch', storage),
    ...unicode('0'),
    ...unicode('cpu'),
    0x4b,
    numel,
    0x74,
    0x51,
    0x4b,
    offset,
    ...tuple(size),
    ...tuple(stride),
    0x89,
    ...global('collections', 'OrderedDict'),
    0x29,
    0x52,
    0x74,
    0x52,
    0x73,
    0x2e,
  ]);
}

function archive(pickle: Uint8Array | number[], storage = new Uint8Array(0), zip64 = false) {
  return buildZip(
    [
      ['archive/data.pkl', new Uint8Array(pickle)],
      ['archive/data/0', storage],
      ['archive/version', new Uint8Array(text('3\n'))],
    ],
    zip64,
  );
}

// ---------------------------------------------------------------------------------------------

describe('loadPytorchStateDict on files torch.save wrote', () => {
  it('reads f32, f16, bf16, int64, int32 and bool tensors, views, a tied pair and a parameter', () => {
    expectFromGenerator('state.bin');
  });

  it('reads a module state dict (an OrderedDict with _metadata) under AdapterHub-style names', () => {
    expectFromGenerator('module.bin');
    const tensors = loadPytorchStateDict(fixture('module.bin'), 'module.bin');
    expect(
      tensors.get('bert.encoder.layer.0.output.adapters.a.adapter_down.0.weight')?.shape,
    ).toEqual([2, 4]);
  });

  it('gathers a transposed view element by element, and gives a tied pair equal copies', () => {
    const tensors = loadPytorchStateDict(fixture('state.bin'), 'state.bin');
    const transposed = tensors.get('transposed')!;
    const column = tensors.get('column')!;
    expect(transposed.shape).toEqual([4, 3]);
    // The base is [3, 4]; its column 2 is row 2 of the transpose.
    expect(Array.from(transposed.data.subarray(6, 9))).toEqual(Array.from(column.data));
    const tied = tensors.get('lm_head.weight')!;
    const word = tensors.get('embeddings.word_embeddings.weight')!;
    expect(Array.from(tied.data)).toEqual(Array.from(word.data));
    expect(tied.data).not.toBe(word.data);
  });

  it('refuses a legacy (pre-1.6) file with what to do', () => {
    const error = errorOf(() => loadPytorchStateDict(fixture('legacy.bin'), 'legacy.bin'));
    expect(error.message).toBe(
      'legacy.bin: this is a legacy torch.save file (before PyTorch 1.6); re-save it with torch.save(..., _use_new_zipfile_serialization=True) or as safetensors',
    );
  });

  it('never runs a pickle that calls os.system', () => {
    expect(existsSync(expectedInfo.pwned_marker)).toBe(false);
    const error = errorOf(() => loadPytorchStateDict(fixture('malicious.bin'), 'malicious.bin'));
    expect(error.message).toMatch(/^malicious\.bin: pickle: global 'os\.system' is not allowed/);
    expect(error.file).toBe('malicious.bin');
    expect(existsSync(expectedInfo.pwned_marker)).toBe(false);
  });

  it('refuses a compressed entry, naming it', () => {
    const error = errorOf(() => loadPytorchStateDict(fixture('deflated.bin'), 'deflated.bin'));
    expect(error.message).toMatch(
      /^deflated\.bin: zip archive: entry 'state\/data\.pkl': is compressed \(method 8\)/,
    );
  });
});

describe('loadPytorchStateDict on corrupt archives', () => {
  const good = fixture('state.bin');

  it('refuses a truncated file', () => {
    for (const length of [good.length - 10, good.length >> 1, 10]) {
      const error = errorOf(() => loadPytorchStateDict(good.slice(0, length), 'cut.bin'));
      expect(error.message).toContain('cut.bin: zip archive: no end of central directory record');
    }
    expect(errorOf(() => loadPytorchStateDict(new Uint8Array(0), 'empty.bin')).message).toContain(
      'not a torch.save checkpoint',
    );
  });

  it('refuses a local header offset out of range', () => {
    const bytes = good.slice();
    const view = new DataView(bytes.buffer);
    const eocd = bytes.length - 22;
    const directory = view.getUint32(eocd + 16, true);
    view.setUint32(directory + 42, bytes.length + 100, true);
    expect(errorOf(() => loadPytorchStateDict(bytes, 'far.bin')).message).toMatch(
      /^far\.bin: zip archive: entry 'state\/data\.pkl': local header offset \d+ is out of range/,
    );
  });

  it('refuses an end record that disagrees with the ZIP64 end record torch.save writes', () => {
    const bytes = good.slice();
    new DataView(bytes.buffer).setUint32(bytes.length - 22 + 16, bytes.length, true);
    expect(errorOf(() => loadPytorchStateDict(bytes, 'cd.bin')).message).toMatch(
      /^cd\.bin: zip archive: the end record \(13 entries, \d+ bytes at \d+\) and the ZIP64 end record .* disagree$/,
    );
  });

  it('refuses a central directory past the end records', () => {
    const bytes = good.slice();
    const view = new DataView(bytes.buffer);
    const record = Number(view.getBigUint64(bytes.length - 22 - 20 + 8, true));
    view.setBigUint64(record + 48, BigInt(bytes.length), true);
    view.setUint32(bytes.length - 22 + 16, 0xffffffff, true);
    expect(errorOf(() => loadPytorchStateDict(bytes, 'cd.bin')).message).toMatch(
      /^cd\.bin: zip archive: central directory \[\d+, \d+\) runs past the end records \(byte \d+\)$/,
    );
  });

  it('refuses a flipped data byte by its CRC-32', () => {
    const bytes = good.slice();
    const at = bytes.indexOf(0x7d, 30); // the EMPTY_DICT right after PROTO in data.pkl
    bytes[at] = 0x5d;
    expect(errorOf(() => loadPytorchStateDict(bytes, 'crc.bin')).message).toBe(
      "crc.bin: zip archive: entry 'state/data.pkl': CRC-32 does not match its data (corrupt file)",
    );
  });

  it('refuses a name that appears twice', () => {
    const bytes = good.slice();
    const names = new TextDecoder('latin1').decode(bytes);
    const directory = new DataView(bytes.buffer).getUint32(bytes.length - 22 + 16, true);
    const second = names.indexOf('state/data/1', directory);
    bytes.set(text('state/data/0'), second);
    expect(errorOf(() => loadPytorchStateDict(bytes, 'twice.bin')).message).toBe(
      "twice.bin: zip archive: entry 'state/data/0': appears twice in the central directory",
    );
  });
});

describe('loadPytorchStateDict on hand-made archives', () => {
  const longs = new Uint8Array(new BigInt64Array([7n, -3n, 1n << 40n]).buffer);

  it('reads a ZIP64 archive', () => {
    const pickle = tensorPickle('w', 'LongStorage', 3, 0, [2], [1]);
    const tensors = loadPytorchStateDict(archive(pickle, longs, true), 'zip64.bin');
    expect(tensors.get('w')).toEqual({ dtype: 'I64', shape: [2], data: new Int32Array([7, -3]) });
  });

  it('refuses an int64 past int32, naming the tensor', () => {
    const pickle = tensorPickle('w', 'LongStorage', 3, 1, [2], [1]);
    expect(errorOf(() => loadPytorchStateDict(archive(pickle, longs), 'big.bin')).message).toBe(
      "big.bin: tensor 'w': I64 value 1099511627776 at index 1 does not fit in int32",
    );
  });

  it('refuses a view past the end of its storage, naming the tensor', () => {
    const pickle = tensorPickle('w', 'LongStorage', 3, 1, [2], [2]);
    expect(errorOf(() => loadPytorchStateDict(archive(pickle, longs), 'past.bin')).message).toBe(
      "past.bin: tensor 'w': storage offset 1, shape [2] and stride [2] reach element 3, past the 3 elements of storage '0'",
    );
  });

  it('refuses a storage whose entry has the wrong size', () => {
    const pickle = tensorPickle('w', 'FloatStorage', 3, 0, [3], [1]);
    expect(
      errorOf(() => loadPytorchStateDict(archive(pickle, new Uint8Array(8)), 's.bin')).message,
    ).toBe(
      "s.bin: persistent id: storage '0': 'archive/data/0' is 8 bytes, but 3 elements of torch.FloatStorage are 12",
    );
  });

  it('refuses float64 tensors with what to do', () => {
    const pickle = tensorPickle('w', 'DoubleStorage', 1, 0, [1], [1]);
    expect(
      errorOf(() => loadPytorchStateDict(archive(pickle, new Uint8Array(8)), 'd.bin')).message,
    ).toMatch(/^d\.bin: tensor 'w': float64 tensors are not read .*\.float\(\)/);
  });

  it('refuses every global outside the allow-list, by GLOBAL or STACK_GLOBAL', () => {
    const calls: [string, number[]][] = [
      ['builtins.eval', [...global('builtins', 'eval'), ...unicode('1'), 0x85, 0x52]],
      ['posix.system', [...global('posix', 'system'), ...unicode('true'), 0x85, 0x52]],
      [
        'subprocess.Popen',
        [0x8c, 10, ...text('subprocess'), 0x8c, 5, ...text('Popen'), 0x93, 0x29, 0x52],
      ],
      ['torch.load', [...global('torch', 'load'), 0x29, 0x52]],
    ];
    for (const [name, body] of calls) {
      const message = errorOf(() =>
        loadPytorchStateDict(archive([0x80, 0x04, ...body, 0x2e]), 'g.bin'),
      ).message;
      expect(message).toContain(`g.bin: pickle: global '${name}' is not allowed`);
    }
  });

  it('refuses opcodes a state dict does not use, and calling a storage class', () => {
    const inst = [0x80, 0x02, 0x28, ...text('ios\nsystem\n'), 0x2e];
    expect(errorOf(() => loadPytorchStateDict(archive(inst), 'op.bin')).message).toBe(
      "op.bin: pickle: opcode 0x69 ('i') at byte 3 is not one a state dict uses; refused",
    );
    const call = [0x80, 0x02, ...global('torch', 'FloatStorage'), 0x29, 0x52, 0x2e];
    expect(errorOf(() => loadPytorchStateDict(archive(call), 'call.bin')).message).toBe(
      "call.bin: pickle: REDUCE at byte 23 applies the global 'torch.FloatStorage', which cannot be called",
    );
  });

  it('refuses a pickle that is not a dict of tensors', () => {
    const list = [0x80, 0x02, 0x5d, 0x2e];
    expect(errorOf(() => loadPytorchStateDict(archive(list), 'l.bin')).message).toBe(
      'l.bin: the pickle holds a list, not a state dict',
    );
    const notTensor = [0x80, 0x02, 0x7d, ...unicode('step'), 0x4b, 3, 0x73, 0x2e];
    expect(errorOf(() => loadPytorchStateDict(archive(notTensor), 'n.bin')).message).toBe(
      "n.bin: tensor 'step': is the number 3, not a tensor",
    );
    const truncated = [0x80, 0x02, 0x7d, 0x58, 0xff, 0, 0, 0];
    expect(errorOf(() => loadPytorchStateDict(archive(truncated), 't.bin')).message).toBe(
      't.bin: pickle: truncated: 255 bytes needed at byte 8, the pickle is 8',
    );
  });
});
