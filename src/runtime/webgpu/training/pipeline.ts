import { AdaptRuntimeError } from '../../errors.js';
import { ShaderStage } from '../constants.js';

/**
 * A compute pipeline of one kernel with the plan's layout: the params uniform at binding 0, then
 * the storage bindings, the last one written. A WGSL error names the kernel.
 */
export async function createPipeline(
  device: GPUDevice,
  name: string,
  wgsl: string,
  storageBindings: number,
): Promise<GPUComputePipeline> {
  device.pushErrorScope('validation');
  const module = device.createShaderModule({ code: wgsl, label: name });
  const moduleError = await device.popErrorScope();
  if (moduleError)
    throw new AdaptRuntimeError(`kernel '${name}' failed to build: ${moduleError.message}`);
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
