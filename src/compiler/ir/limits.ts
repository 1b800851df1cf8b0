/**
 * Storage buffers one WebGPU kernel may bind: `maxStorageBuffersPerShaderStage` at its default,
 * which every device grants. Codegen keeps every kernel within it (an op with more inputs runs
 * as several dispatches, each binding a window of them), so a program runs on any device.
 */
export const MAX_STORAGE_BINDINGS = 8;

/**
 * Workgroup memory one kernel may declare, in f32 values: `maxComputeWorkgroupStorageSize` at its
 * default, 16 KiB, which every device grants. The bottleneck kernel keeps its rows of y and their
 * bottlenecks within it, and bottleneck fusion takes only adapters whose row fits.
 */
export const MAX_WORKGROUP_FLOATS = 16384 / 4;
