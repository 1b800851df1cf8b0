// The relative error of adaptc against the PyTorch fixtures of test/fixtures/hf, per family and
// adapter case: the CPU reference (unfused graph) and WebGPU (fused), on last_hidden_state and
// logits. Run after `npm run build`: node scripts/checkpoint-errors.mjs
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
const root = fileURLToPath(new globalThis.URL('../', import.meta.url));
const { compile } = await import(root + 'dist/src/compiler/index.js');
const rt = await import(root + 'dist/src/runtime/index.js');
const { readCheckpoint } = await import(root + 'dist/src/cli/checkpoint-files.js');
const { specFileReader } = await import(root + 'dist/src/cli/load-model.js');
const fixtures = root + 'test/fixtures/hf/';
const cases = JSON.parse(readFileSync(fixtures + 'cases.json', 'utf8'));
const rel = (a, b) => {
  let num = 0,
    den = 0;
  for (let i = 0; i < a.length; i++) {
    num += (a[i] - b[i]) ** 2;
    den += b[i] ** 2;
  }
  return Math.sqrt(num / den);
};
const runs = [
  ...cases.checkpoints.map((c) => ({
    name: c.name,
    spec: `${fixtures}specs/${c.name}.adapt`,
    expected: c.expected,
    adapters: [],
  })),
  ...cases.adapters.map((a) => ({
    name: a.name,
    spec: fixtures + a.spec,
    expected: a.expected,
    adapters: [fixtures + a.weights],
  })),
];
for (const backend of ['cpu', 'webgpu']) {
  const runtime = await rt.Runtime.create({ backend });
  for (const r of runs) {
    const source = readFileSync(r.spec, 'utf8');
    const readFile = specFileReader('/', r.spec);
    const target = runtime.adapter?.profile ?? 'software';
    const { program, model, diagnostics } = compile(source, {
      fileName: r.spec,
      readFile,
      target,
      fuse: backend === 'webgpu',
    });
    if (!program) {
      console.log(r.name, diagnostics);
      continue;
    }
    const ck = readCheckpoint('/', r.spec, model.base.checkpoint.dir);
    const weights = [
      ck.weights.tensors,
      ...r.adapters.map((p) => rt.loadSafetensors(readFileSync(p))),
    ];
    const expected = rt.loadSafetensors(readFileSync(fixtures + r.expected));
    const inputs = {};
    for (const name of ['input_ids', 'attention_mask', 'token_type_ids'])
      if (expected.has(name) && program.inputs.some((i) => i.name === name))
        inputs[name] = expected.get(name);
    const m = await runtime.load(program, weights);
    const out = await m.run(inputs);
    const e1 = rel(out.last_hidden_state.data, expected.get('last_hidden_state').data);
    const e2 = out.logits ? rel(out.logits.data, expected.get('logits').data) : NaN;
    console.log(
      `${backend.padEnd(7)} ${r.name.padEnd(22)} last_hidden_state ${e1.toExponential(2)}  logits ${e2.toExponential(2)}`,
    );
    m.dispose();
  }
  runtime.dispose();
}
