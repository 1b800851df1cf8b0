/**
 * Storage buffers one WebGPU kernel may bind: `maxStorageBuffersPerShaderStage` at its default,
 * which every device grants. Codegen keeps every kernel within it (an op with more inputs runs
 * as several dispatches, each binding a window of them), so a program runs on any device.
 */
export const MAX_STORAGE_BINDINGS = 8;
