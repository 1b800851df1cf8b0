import { it } from 'vitest';
import { compile } from '../../src/compiler/index.js';
import { Runtime } from '../../src/runtime/runtime.js';
import { gpuWait } from '../../src/runtime/webgpu/wait.js';
const D = Number(process.env.D ?? 32);
const src = `model m { hidden ${D} heads 2 ffn ${3 * D + 1} layers 2 }
adapter a0 { bottleneck 5 at ffn parallel attn scale 0.5 }
adapter a1 { bottleneck 7 at attn, ffn }
adapter a2 { bottleneck 3 at ffn }
fusion f { adapters a1, a2 value identity }
graph main = batch(stack(a0, a1, a0), f)
`;
it('prof', async () => {
  const rt = await Runtime.create({ backend: 'webgpu' });
  const device = (rt as any).device.device as GPUDevice;
  for (const [target, fuse] of [
    ['software', true],
    ['gpu', true],
    ['software', false],
  ] as const) {
    const p = compile(src, { graph: 'main', target, fuse }).program!;
    let total = 0;
    for (const k of p.gpu!.kernels) {
      const module = device.createShaderModule({ code: k.wgsl });
      const entries: GPUBindGroupLayoutEntry[] = [
        { binding: 0, visibility: 4, buffer: { type: 'uniform' } },
      ];
      for (let i = 1; i <= k.storageBindings; i++)
        entries.push({
          binding: i,
          visibility: 4,
          buffer: { type: i === k.storageBindings ? 'storage' : 'read-only-storage' },
        });
      const bgl = device.createBindGroupLayout({ entries });
      const pl = device.createComputePipeline({
        layout: device.createPipelineLayout({ bindGroupLayouts: [bgl] }),
        compute: { module, entryPoint: 'main' },
      });
      const t = performance.now();
      const enc = device.createCommandEncoder();
      const pass = enc.beginComputePass();
      pass.setPipeline(pl);
      const be: GPUBindGroupEntry[] = [
        { binding: 0, resource: { buffer: device.createBuffer({ size: 16, usage: 0x40 }) } },
      ];
      for (let i = 1; i <= k.storageBindings; i++)
        be.push({
          binding: i,
          resource: { buffer: device.createBuffer({ size: 1 << 16, usage: 0x80 }) },
        });
      pass.setBindGroup(0, device.createBindGroup({ layout: bgl, entries: be }));
      pass.dispatchWorkgroups(1);
      pass.end();
      device.queue.submit([enc.finish()]);
      await gpuWait(() => device.queue.onSubmittedWorkDone());
      const dt = performance.now() - t;
      total += dt;
      console.log(target, fuse, k.name, 'first submit', dt.toFixed(0));
    }
    console.log('TOTAL', target, fuse, total.toFixed(0));
  }
  rt.dispose();
}, 600000);
