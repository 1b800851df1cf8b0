import type { ScheduleKind } from '../../runtime/training/schedule.js';

/** Where `adapt train` runs: WebGPU where an adapter exists (auto), or the CPU reference. */
export type TrainBackendChoice = 'auto' | 'cpu' | 'webgpu';

export interface TrainOptions {
  readonly adapter?: string;
  readonly fusion?: string;
  readonly data: string;
  readonly eval?: string;
  readonly steps?: number;
  readonly epochs?: number;
  readonly batch: number;
  readonly lr: number;
  readonly weightDecay: number;
  readonly warmupSteps: number;
  readonly schedule: ScheduleKind;
  readonly seed: number;
  /** False with --no-shuffle. */
  readonly shuffle: boolean;
  readonly backend: TrainBackendChoice;
  readonly checkpointEvery?: number;
  readonly resume?: string;
  readonly dropout?: number;
  readonly graph: string;
  readonly out: string;
  readonly logEvery: number;
  /** Weights of frozen adapters the spec declares inline (repeatable). */
  readonly weights: readonly string[];
  /**
   * The options given on the command line, not defaulted: on --resume these must agree with the
   * checkpoint, and the others are taken from it.
   */
  readonly given: ReadonlySet<string>;
}
