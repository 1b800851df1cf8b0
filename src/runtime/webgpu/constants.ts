/** WebGPU flag values, fixed by the specification (so no global objects are needed in Node). */
export const BufferUsage = {
  MAP_READ: 0x0001,
  COPY_SRC: 0x0004,
  COPY_DST: 0x0008,
  UNIFORM: 0x0040,
  STORAGE: 0x0080,
  QUERY_RESOLVE: 0x0200,
} as const;

export const MapMode = { READ: 0x0001 } as const;
export const ShaderStage = { COMPUTE: 0x4 } as const;
/** Workgroups per dispatch dimension that every WebGPU device allows. */
export const MAX_WORKGROUPS_PER_DIMENSION = 65535;
