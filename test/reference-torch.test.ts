import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { compile } from '../src/compiler/index.js';
import { Runtime } from '../src/runtime/runtime.js';
import { loadSafetensors } from '../src/runtime/safetensors.js';
import { relativeError } from './helpers/numerics.js';

const dir = new URL('./fixtures/torch/', import.meta.url);
const cases = JSON.parse(readFileSync(new URL('cases.json', dir), 'utf8')) as {
  name: string;
  description: string;
  graph: string;
}[];

function fixture(name: string, part: string) {
  return loadSafetensors(
    readFileSync(new URL(`${name}.${part}.safetensors`, dir)),
    `${name}.${part}`,
  );
}

describe('CPU reference against PyTorch', () => {
  it('has the fixtures', () => expect(cases.length).toBeGreaterThanOrEqual(10));

  for (const { name, description, graph } of cases) {
    it(`${name}: ${description}`, async () => {
      const source = readFileSync(new URL(`${name}.adapt`, dir), 'utf8');
      const { program, diagnostics } = compile(source, { fileName: `${name}.adapt`, graph });
      expect(diagnostics).toEqual([]);
      const notices: string[] = [];
      const rt = await Runtime.create({ backend: 'cpu', onNotice: (n) => notices.push(n) });
      const model = await rt.load(program, fixture(name, 'weights'));
      expect(notices).toEqual([]);
      const input = fixture(name, 'input');
      const expected = fixture(name, 'expected').get('hidden_states')!;
      const { hidden_states } = await model.run({
        hidden_states: input.get('hidden_states')!,
        attention_mask: input.get('attention_mask'),
        adapter_index: input.get('adapter_index'),
      });
      expect(hidden_states.shape).toEqual(expected.shape);
      expect(relativeError(hidden_states.data, expected.data)).toBeLessThan(1e-6);
    });
  }
});
