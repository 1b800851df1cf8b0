import type { Target as KernelTarget } from '../../runtime/program.js';

export type Batching = 'mixed' | 'per-adapter';

export interface ServeOptions {
  /** 0 takes a free port. */
  readonly port: number;
  readonly host: string;
  readonly maxBatch: number;
  readonly maxWaitMs: number;
  readonly maxQueue: number;
  /** Slots per adapter shape; by default the spec's adapters of that shape and SPARE_SLOTS more. */
  readonly slots?: number;
  readonly batching: Batching;
  /** auto: WebGPU, or ONNX Runtime where the adapter is a software rasterizer, else the CPU. */
  readonly backend: 'auto' | 'webgpu' | 'cpu' | 'onnx';
  readonly target?: KernelTarget;
  readonly weights: readonly string[];
  /** Seconds a forward pass may take. */
  readonly timeout?: number;
  /** Largest request body, in bytes. */
  readonly maxBodyBytes: number;
}

/** Free slots each adapter shape gets beyond the spec's adapters, for adapters added later. */
export const SPARE_SLOTS = 8;

export const SERVE_DEFAULTS = {
  port: 8080,
  host: '127.0.0.1',
  maxBatch: 16,
  maxWaitMs: 5,
  maxQueue: 1024,
  maxBodyBytes: 1024 * 1024,
} as const;
