import { totalmem } from 'node:os';
import { ResourceError } from '../runtime/errors.js';
import {
  assertFits,
  describeEstimate,
  formatBytes,
  type MemoryEstimate,
} from '../runtime/memory.js';
import { CliError } from './io.js';

/** The sum of several estimates, e.g. the three models `adapt bench` loads side by side. */
export function addEstimates(estimates: readonly MemoryEstimate[]): MemoryEstimate {
  const sum = (key: 'weightBytes' | 'inputBytes' | 'activationBytes' | 'totalBytes') =>
    estimates.reduce((total, estimate) => total + estimate[key], 0);
  const largestBuffer = estimates
    .map((estimate) => estimate.largestBuffer)
    .reduce((a, b) => (b.bytes > a.bytes ? b : a), { name: '', bytes: 0 });
  return {
    weightBytes: sum('weightBytes'),
    inputBytes: sum('inputBytes'),
    activationBytes: sum('activationBytes'),
    totalBytes: sum('totalBytes'),
    largestBuffer,
  };
}

/**
 * Refuses, before anything is allocated, work that needs more memory than this machine has or a
 * tensor larger than one typed array holds. `what` names the work: `--batch 1 --seq 512`;
 * `breakdown` says what the bytes are, by default weights, inputs and activations.
 */
export function requireMemory(
  what: string,
  needs: MemoryEstimate,
  breakdown = describeEstimate(needs),
): void {
  const machine = totalmem();
  if (needs.totalBytes > machine) {
    throw new CliError(
      `adapt: error: ${what} needs ${formatBytes(needs.totalBytes)} (${breakdown}); this machine has ${formatBytes(machine)}`,
    );
  }
  try {
    assertFits(what, needs);
  } catch (error) {
    if (error instanceof ResourceError) throw new CliError(`adapt: error: ${error.message}`);
    throw error;
  }
}
