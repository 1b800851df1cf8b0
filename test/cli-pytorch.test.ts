import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { readTensorFile } from '../src/cli/weights-files.js';
import { runCli } from './helpers/cli.js';

const fixtures = 'test/fixtures/pytorch';

describe('PyTorch .bin weight files in the CLI', () => {
  it('read as safetensors are, tensor for tensor', () => {
    const fromBin = readTensorFile('.', `${fixtures}/module.bin`);
    // The generator's sidecar holds each file's tensors under `FILE/NAME`.
    const expected = readTensorFile('.', `${fixtures}/expected.safetensors`);
    const names = [...expected.keys()].filter((name) => name.startsWith('module.bin/'));
    expect([...fromBin.keys()].sort()).toEqual(names.map((n) => n.slice(11)).sort());
    for (const name of names) {
      const got = fromBin.get(name.slice(11))!;
      expect(got.shape, name).toEqual(expected.get(name)!.shape);
      expect([...got.data], name).toEqual([...expected.get(name)!.data]);
    }
  });

  it('refuse a pickle that would run a command, and run nothing', async () => {
    const result = await runCli([
      'run',
      'examples/worked-example.adapt',
      '--weights',
      `${fixtures}/malicious.bin`,
      '--backend',
      'cpu',
    ]);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(
      /^test\/fixtures\/pytorch\/malicious\.bin: error: pickle: global 'os\.system' is not allowed; .*\(nothing in the file is executed\)\n$/,
    );
    expect(existsSync('/tmp/adaptc-pwned-3f9c1e7a52')).toBe(false);
  });

  it('say how to re-save a legacy torch.save file', async () => {
    const result = await runCli([
      'run',
      'examples/worked-example.adapt',
      '--weights',
      `${fixtures}/legacy.bin`,
      '--backend',
      'cpu',
    ]);
    expect(result.code).toBe(1);
    expect(result.stderr).toBe(
      `${fixtures}/legacy.bin: error: this is a legacy torch.save file (before PyTorch 1.6); re-save it with torch.save(..., _use_new_zipfile_serialization=True) or as safetensors\n`,
    );
  });
});
