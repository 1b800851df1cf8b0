/** Buffers, pipelines and dispatches laid out as the runtime lays them out (webgpu/model.ts). */
import {
  BufferUsage,
  MapMode,
  MAX_WORKGROUPS_PER_DIMENSION,
} from '../../src/runtime/webgpu/constants.js';
import { createKernelPipeline } from '../../src/runtime/webgpu/kernel-pipeline.js';
import { gpuWait } from '../../src/runtime/webgpu/wait.js';

const roundUp16 = (bytes: number) => Math.max(16, Math.ceil(bytes / 16) * 16);

/** One storage buffer holding `data`. */
export function storageBuffer(device: GPUDevice, data: Float32Array, label: string): GPUBuffer {
  const buffer = device.createBuffer({
    size: roundUp16(data.byteLength),
    usage: BufferUsage.STORAGE | BufferUsage.COPY_DST | BufferUsage.COPY_SRC,
    label,
  });
  device.queue.writeBuffer(buffer, 0, data.buffer, data.byteOffset, data.byteLength);
  return buffer;
}

/** The params uniform every kernel reads: batch, seq, rows. */
export function paramsBuffer(device: GPUDevice, batch: number, seq: number): GPUBuffer {
  const buffer = device.createBuffer({
    size: 16,
    usage: BufferUsage.UNIFORM | BufferUsage.COPY_DST,
    label: 'params',
  });
  const params = new Uint32Array([batch, seq, batch * seq, 0]);
  device.queue.writeBuffer(buffer, 0, params.buffer, 0, 16);
  return buffer;
}

/**
 * A pipeline with the runtime's layout (params uniform at 0, storage 1..n, the last written),
 * built by the runtime's own `createKernelPipeline`, waited for with the gentle poll.
 */
export function createPipeline(
  device: GPUDevice,
  name: string,
  wgsl: string,
  storageBindings: number,
): Promise<GPUComputePipeline> {
  return gpuWait(() => createKernelPipeline(device, name, wgsl, storageBindings));
}

/** `buffers` bound in order from binding 0. */
export function bindGroup(
  device: GPUDevice,
  pipeline: GPUComputePipeline,
  buffers: readonly GPUBuffer[],
): GPUBindGroup {
  return device.createBindGroup({
    layout: pipeline.getBindGroupLayout(0),
    entries: buffers.map((buffer, binding) => ({ binding, resource: { buffer } })),
  });
}

/** Workgroups laid out over x and y as the runtime does. */
export function dispatch(pass: GPUComputePassEncoder, count: number): void {
  const x = Math.min(count, MAX_WORKGROUPS_PER_DIMENSION);
  pass.dispatchWorkgroups(x, Math.ceil(count / x));
}

/** The first `length` floats of `source`. */
export async function readBack(
  device: GPUDevice,
  source: GPUBuffer,
  length: number,
): Promise<Float32Array> {
  const bytes = roundUp16(length * 4);
  const staging = device.createBuffer({
    size: bytes,
    usage: BufferUsage.MAP_READ | BufferUsage.COPY_DST,
  });
  const encoder = device.createCommandEncoder();
  encoder.copyBufferToBuffer(source, 0, staging, 0, bytes);
  device.queue.submit([encoder.finish()]);
  await gpuWait(() => staging.mapAsync(MapMode.READ, 0, bytes));
  const data = new Float32Array(staging.getMappedRange(0, bytes).slice(0, length * 4));
  staging.unmap();
  staging.destroy();
  return data;
}
