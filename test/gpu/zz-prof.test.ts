import { it } from 'vitest';
import { compile } from '../../src/compiler/index.js';
import { Runtime } from '../../src/runtime/runtime.js';
import { testWeights, testInputs } from '../helpers/gpu-cases.js';
const src = `model m { hidden 16 heads 8 ffn 47 layers 2 }
adapter a0 { bottleneck 5 at ffn parallel attn }
adapter a1 { bottleneck 7 at attn, ffn }
graph main = batch(stack(a0, a1, a0), a0)
`;
it('prof', async () => {
  const rt = await Runtime.create({ backend: 'webgpu' });
  for (const [target, fuse] of [['software', true], ['software', false], ['gpu', true]] as const) {
    const p = compile(src, { graph: 'main', target, fuse }).program!;
    const w = testWeights(p, 1);
    let t = performance.now();
    const m = await rt.load(p, w);
    const load = performance.now() - t; t = performance.now();
    await m.run(testInputs(16, 1, 3, 1, { mask: true, branches: 2 }));
    console.log(target, fuse, 'kernels', m.stats!().kernels, 'dispatches', m.stats!().dispatchesPerRun, 'load', load.toFixed(0), 'run', (performance.now() - t).toFixed(0));
    m.dispose();
  }
  // per kernel: build a program-less pipeline and dispatch once
  const device = (rt as any).device.device as GPUDevice;
  for (const target of ['software', 'gpu'] as const) {
    const p = compile(src.replace('ffn 47', 'ffn 45'), { graph: 'main', target, fuse: true }).program!;
    for (const k of p.gpu!.kernels) {
      const t = performance.now();
      const module = device.createShaderModule({ code: k.wgsl });
      const pl = device.createComputePipeline({ layout: 'auto', compute: { module, entryPoint: 'main' } });
      const t1 = performance.now() - t;
      console.log(target, k.name, 'create', t1.toFixed(0));
      void pl;
    }
  }
  rt.dispose();
}, 600000);
