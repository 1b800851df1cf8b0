import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { onnxModelForRuntime } from '../src/cli/onnx-model.js';
import { compile } from '../src/compiler/index.js';
import { exportOnnx } from '../src/compiler/onnx/index.js';
import { decodeModel } from '../src/compiler/onnx/proto.js';
import type { OnnxModelFiles } from '../src/compiler/onnx/index.js';
import { normalArray } from '../src/runtime/random.js';
import { Runtime, type LoadOptions } from '../src/runtime/runtime.js';
import { loadSafetensors } from '../src/runtime/safetensors.js';
import { bindWeights } from '../src/runtime/weights.js';
import { relativeError } from './helpers/numerics.js';

const TORCH = 'test/fixtures/torch';

function fixture(name: string) {
  const fileName = join(TORCH, `${name}.adapt`);
  const result = compile(readFileSync(fileName, 'utf8'), { fileName, fuse: false, gpu: false });
  expect(result.diagnostics).toEqual([]);
  const path = join(TORCH, `${name}.weights.safetensors`);
  const weights = loadSafetensors(readFileSync(path), path);
  return { fileName, ir: result.ir!, program: result.program!, weights };
}

describe("the onnx backend's model for ONNX Runtime", () => {
  for (const name of ['postln_pfeiffer', 'fusion_default']) {
    it(`${name}: x·Wᵀ as FusedMatMul, no weight transposed, the weights as external data`, () => {
      const { fileName, ir, program, weights } = fixture(name);
      const bound = bindWeights(program, weights).tensors;
      const options = { graph: 'default', optimize: true };
      const standard = decodeModel(exportOnnx(ir, bound, { fileName, ...options })).graph!;
      const files = onnxModelForRuntime(
        fileName,
        ir,
        options,
      )(bound, {
        externalData: true,
        weightInputs: new Set(),
      }) as OnnxModelFiles;
      const model = decodeModel(files.model);
      const graph = model.graph!;
      expect(model.opsetImport!.map((set) => set.domain)).toEqual(['', 'com.microsoft']);

      // MatMuls of a weight (or a product of weights) read transposed through the exporter's
      // Transpose node `n<id>_transpose`.
      const matmulsOfTransposedWeights = (nodes: typeof graph.node) => {
        const transposed = new Set(
          nodes!.filter((n) => n.name!.endsWith('_transpose')).map((n) => n.output![0]!),
        );
        return nodes!.filter(
          (n) => n.opType === 'MatMul' && n.input!.some((i) => transposed.has(i)),
        );
      };
      const fused = graph.node!.filter((n) => n.opType === 'FusedMatMul');
      expect(fused.length).toBeGreaterThan(0);
      for (const node of fused) {
        expect(node.domain).toBe('com.microsoft');
        expect(node.attribute!.map((a) => [a.name, Number(a.i)])).toEqual([['transB', 1]]);
      }
      // Each x·Wᵀ of the standard export is one FusedMatMul; only the load-time products Wᵀ·W'
      // of the query fold keep their Transpose (two per layer in fusion_default, none elsewhere).
      const kept = matmulsOfTransposedWeights(graph.node);
      expect(kept.length).toBe(name === 'fusion_default' ? 2 * program.model.layers : 0);
      expect(fused.length + kept.length).toBe(matmulsOfTransposedWeights(standard.node).length);

      // Initializers of 4 KiB or more are external, each a view of its weight's own bytes.
      const byPath = new Map(files.externalData.map((file) => [file.path, file.data]));
      for (const tensor of graph.initializer!) {
        const entries = new Map(tensor.externalData!.map((e) => [e.key!, e.value!]));
        const data = byPath.get(entries.get('location') ?? '');
        if (!data) {
          expect(tensor.rawData!.byteLength).toBeLessThan(4096);
          continue;
        }
        expect(data.byteLength).toBeGreaterThanOrEqual(4096);
        expect(entries.get('offset')).toBe('0');
        expect(Number(entries.get('length'))).toBe(data.byteLength);
        expect(tensor.rawData?.byteLength ?? 0).toBe(0);
        const weight = bound.get(tensor.name!);
        if (weight) expect(data.buffer).toBe(weight.buffer);
      }
      expect(byPath.size).toBe(files.externalData.length);
    });

    it(`${name}: runs in ONNX Runtime as the standard export does, on fresh random inputs`, async () => {
      const { fileName, ir, program, weights } = fixture(name);
      const [batch, seq, d] = [2, 6, program.model.hidden];
      const mask = Int32Array.from({ length: batch * seq }, (_, i) => (i >= 2 * seq - 1 ? 0 : 1));
      const inputs = {
        hidden_states: { data: normalArray(batch * seq * d, 17), shape: [batch, seq, d] },
        attention_mask: { data: mask, shape: [batch, seq] },
      };
      const options = { graph: 'default', optimize: true };
      const runtime = await Runtime.create({ backend: 'onnx' });
      try {
        const run = async (onnx: LoadOptions['onnx']) =>
          (await (await runtime.load(program, weights, { onnx })).run(inputs)).hidden_states.data;
        const standard = await run((bound) => exportOnnx(ir, bound, { fileName, ...options }));
        const forRuntime = await run(onnxModelForRuntime(fileName, ir, options));
        expect(relativeError(forRuntime, standard)).toBeLessThanOrEqual(1e-6);
      } finally {
        runtime.dispose();
      }
    });
  }
});
