/** The bytes of a GPU buffer holding `bytes`: a multiple of 16, at least 16 (no empty buffers). */
export const roundUp16 = (bytes: number): number => Math.max(16, Math.ceil(bytes / 16) * 16);
