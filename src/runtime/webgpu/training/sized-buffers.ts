import { evaluateSize, type SizeExpr } from '../../program.js';
import { roundUp16 } from '../buffer-bytes.js';
import { BufferUsage } from '../constants.js';

/** Buffers sized by the run's batch and sequence length: grown when too small, kept otherwise. */
export class SizedBuffers {
  readonly buffers: GPUBuffer[] = [];
  private readonly bytes: number[] = [];

  constructor(
    private readonly device: GPUDevice,
    private readonly sizes: readonly SizeExpr[],
    private readonly label: string,
  ) {}

  /** Whether any buffer was replaced. */
  ensure(batch: number, seq: number): boolean {
    let changed = false;
    this.sizes.forEach((size, i) => {
      const bytes = roundUp16(4 * evaluateSize(size, batch, seq));
      if ((this.bytes[i] ?? 0) >= bytes) return;
      this.buffers[i]?.destroy();
      this.buffers[i] = this.device.createBuffer({
        size: bytes,
        usage: BufferUsage.STORAGE | BufferUsage.COPY_DST | BufferUsage.COPY_SRC,
        label: `${this.label} ${i}`,
      });
      this.bytes[i] = bytes;
      changed = true;
    });
    return changed;
  }

  destroy(): void {
    for (const buffer of this.buffers) buffer.destroy();
  }
}
