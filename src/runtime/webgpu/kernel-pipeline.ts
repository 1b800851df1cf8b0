import { AdaptRuntimeError } from '../errors.js';
import { ShaderStage } from './constants.js';

/**
 * A compute pipeline of one kernel with the plan's layout: the params uniform at binding 0, then
 * the storage bindings, the last one written. A WGSL error names the kernel. The forward runtime
 * and the trainer both build their pipelines through this.
 */
export async function createKernelPipeline(
  device: GPUDevice,
  name: string,
  wgsl: string,
  storageBindings: number,
): Promise<GPUComputePipeline> {
  // A scope of its own, pushed and popped before any other work, so a WGSL error names its kernel.
  device.pushErrorScope('validation');
  const module = device.createShaderModule({ code: wgsl, label: name });
  const moduleError = device.popErrorScope();
  const entries: GPUBindGroupLayoutEntry[] = [
    { binding: 0, visibility: ShaderStage.COMPUTE, buffer: { type: 'uniform' } },
  ];
  for (let i = 1; i <= storageBindings; i++) {
    const type = i === storageBindings ? 'storage' : 'read-only-storage';
    entries.push({ binding: i, visibility: ShaderStage.COMPUTE, buffer: { type } });
  }
  const layout = device.createPipelineLayout({
    bindGroupLayouts: [device.createBindGroupLayout({ entries, label: name })],
  });
  const compileError = await moduleError;
  if (compileError) {
    throw new AdaptRuntimeError(`kernel '${name}' failed to build: ${compileError.message}`);
  }
  try {
    return await device.createComputePipelineAsync({
      layout,
      compute: { module, entryPoint: 'main' },
      label: name,
    });
  } catch (error) {
    const info = await module.getCompilationInfo();
    const messages = info.messages
      .map((m) => `${m.lineNum}:${m.linePos} ${m.type}: ${m.message}`)
      .join('; ');
    throw new AdaptRuntimeError(
      `kernel '${name}' failed to build: ${messages || (error as Error).message}`,
    );
  }
}
