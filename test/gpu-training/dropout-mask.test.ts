import { afterAll, describe, expect } from 'vitest';
import { perElementEntry } from '../../src/compiler/codegen/backward/common.js';
import {
  DROPOUT_BINDING,
  dropoutFunctions,
  dropoutKernel,
  probabilityFactor,
} from '../../src/compiler/codegen/backward/dropout.js';
import { bindings } from '../../src/compiler/codegen/wgsl.js';
import { planTraining } from '../../src/compiler/training/index.js';
import { seededUniform } from '../../src/runtime/random.js';
import { resolveShape } from '../../src/runtime/tensor.js';
import { dropoutFactors } from '../../src/runtime/training/dropout/hash.js';
import { dropoutSites } from '../../src/runtime/training/dropout/sites.js';
import { BufferUsage, MapMode } from '../../src/runtime/webgpu/constants.js';
import { dispatchFlat } from '../../src/runtime/webgpu/flat-dispatch.js';
import { createKernelPipeline } from '../../src/runtime/webgpu/kernel-pipeline.js';
import { evaluateSize, type SizeExpr } from '../../src/runtime/program.js';
import { compileLowered, weightsNamed } from '../backward/finite-differences.js';
import { gpuIt } from '../helpers/gpu.js';
import { SMALL_TRAINING_CASES } from '../helpers/small-training-models.js';
import { disposeSharedDevice, sharedDevice } from './device.js';

/**
 * The WGSL mask stream is the CPU reference's bit for bit: each dropout site of a small graph,
 * its kernel (the one the training plan runs) applied to ones, and attention's factor of every
 * probability [B, H, T, T], read back against dropoutFactors in f32.
 */
interface Run {
  readonly batch: number;
  readonly seq: number;
  readonly seed: number;
  readonly step: number;
}

/** `wgsl` (bindings: dropout, out) over `out` = ones of `elements`, read back. */
async function runOnOnes(
  device: GPUDevice,
  kernel: { name: string; wgsl: string; groups: SizeExpr },
  elements: number,
  run: Run,
): Promise<Float32Array> {
  const pipeline = await createKernelPipeline(device, kernel.name, kernel.wgsl, 2);
  const buffer = (data: ArrayBufferView, usage: number) => {
    const made = device.createBuffer({ size: Math.max(16, data.byteLength), usage });
    device.queue.writeBuffer(made, 0, data.buffer, data.byteOffset, data.byteLength);
    return made;
  };
  const params = buffer(
    new Uint32Array([run.batch, run.seq, run.batch * run.seq, 0]),
    BufferUsage.UNIFORM | BufferUsage.COPY_DST,
  );
  const dropout = buffer(
    new Uint32Array([run.seed, run.step, 0, 0]),
    BufferUsage.STORAGE | BufferUsage.COPY_DST,
  );
  const out = buffer(
    new Float32Array(elements).fill(1),
    BufferUsage.STORAGE | BufferUsage.COPY_DST | BufferUsage.COPY_SRC,
  );
  const staging = device.createBuffer({
    size: out.size,
    usage: BufferUsage.MAP_READ | BufferUsage.COPY_DST,
  });
  const group = device.createBindGroup({
    layout: pipeline.getBindGroupLayout(0),
    entries: [params, dropout, out].map((b, binding) => ({ binding, resource: { buffer: b } })),
  });
  const encoder = device.createCommandEncoder();
  const pass = encoder.beginComputePass();
  pass.setPipeline(pipeline);
  pass.setBindGroup(0, group);
  dispatchFlat(pass, evaluateSize(kernel.groups, run.batch, run.seq));
  pass.end();
  encoder.copyBufferToBuffer(out, 0, staging, 0, out.size);
  device.queue.submit([encoder.finish()]);
  await staging.mapAsync(MapMode.READ);
  const values = new Float32Array(staging.getMappedRange().slice(0, 4 * elements));
  staging.unmap();
  for (const b of [params, dropout, out, staging]) b.destroy();
  return values;
}

/** A kernel writing attention's factor pm(b, h, i, j) of every probability of a site at length `seq`. */
function probabilityProbe(heads: number, seq: number, site: number, probability: number) {
  const count = `params.batch * ${heads}u * params.seq * params.seq`;
  return {
    name: `probe_pm_${site}`,
    wgsl: `${bindings([DROPOUT_BINDING, 'out'], ['u32', 'f32'])}
const HEADS = ${heads}u;
${dropoutFunctions(probability)}
${probabilityFactor(site)}

${perElementEntry(count)}
  let j = i % params.seq;
  let query = (i / params.seq) % params.seq;
  let head = (i / (params.seq * params.seq)) % HEADS;
  let sequence = i / (params.seq * params.seq * HEADS);
  out[i] = pm(sequence, head, query, j);
}
`,
    // One invocation per probability: B·T·(H·T) of them, 256 a group (perElementEntry).
    groups: { perToken: heads * seq, perSequence: 0, fixed: 0, divide: 256 },
  };
}

describe('the dropout masks on WebGPU', () => {
  afterAll(disposeSharedDevice);

  gpuIt('equal the CPU reference bit for bit at every site of a small graph', async () => {
    const { device } = await sharedDevice();
    const seed = Date.now() % 100_000;
    const uniform = seededUniform(seed);
    const small = SMALL_TRAINING_CASES[1]!;
    const program = compileLowered(small.source);
    const probability = 0.3 + 0.4 * uniform();
    const run: Run = {
      batch: 1 + Math.floor(3 * uniform()),
      seq: 4 + Math.floor(9 * uniform()),
      seed: Math.floor(uniform() * 0xffffffff),
      step: Math.floor(uniform() * 1000),
    };
    const plan = planTraining(program, {
      trained: weightsNamed(program, ...small.trained),
      output: 'hidden_states',
      dropout: probability,
    });
    const planned = new Set(plan.kernels.map((k) => k.wgsl));
    const sites = dropoutSites(program);
    expect(new Set(sites.map((s) => s.place))).toEqual(
      new Set(['attention probabilities', 'attention output', 'feed-forward output', 'adapter']),
    );
    const heads = program.model.heads;
    for (const site of sites) {
      const settings = { probability, seed: run.seed };
      let got: Float32Array;
      let count: number;
      if (site.kind === 'output') {
        const node = program.nodes[site.node]!;
        const kernel = dropoutKernel(node.shape, { site: site.index, probability });
        expect(planned.has(kernel.wgsl), `site ${site.index} is planned`).toBe(true);
        count = resolveShape(node.shape, run.batch, run.seq).reduce((n, d) => n * d, 1);
        got = await runOnOnes(device, kernel, count, run);
      } else {
        count = run.batch * heads * run.seq * run.seq;
        const probe = probabilityProbe(heads, run.seq, site.index, probability);
        got = await runOnOnes(device, probe, count, run);
      }
      const want = Float32Array.from(dropoutFactors(settings, run.step, site.index, count));
      const what = `site ${site.index} (${site.place}), test seed ${seed}`;
      expect([...got], what).toEqual([...want]);
      expect(want.includes(0) && want.some((f) => f > 1), `${what} drops some`).toBe(true);
    }
  });
});
