import type { OptimizerTensorState } from '../../runtime/training/backend.js';
import {
  saveSafetensors,
  type SafetensorsEntry,
  type TensorMap,
} from '../../runtime/safetensors.js';
import { CliError } from '../io.js';

/**
 * `optimizer.safetensors`: AdamW's moments per trained tensor, `NAME.exp_avg` and
 * `NAME.exp_avg_sq` as F32 (the layout of PyTorch's state for an f32 parameter). A backend that
 * keeps them in f64 (the CPU reference) also gets `NAME.exp_avg.f64` and `NAME.exp_avg_sq.f64`:
 * the f64 values' bits as I32 pairs (little-endian), so that a resumed run continues exactly.
 */
export function optimizerFile(
  states: ReadonlyMap<string, OptimizerTensorState>,
  step: number,
): Uint8Array {
  const entries: [string, SafetensorsEntry][] = [];
  for (const [name, state] of states) {
    for (const [key, values] of [
      ['exp_avg', state.expAvg],
      ['exp_avg_sq', state.expAvgSq],
    ] as const) {
      entries.push([`${name}.${key}`, { shape: [values.length], data: Float32Array.from(values) }]);
      if (values instanceof Float64Array)
        entries.push([`${name}.${key}.f64`, { shape: [values.length, 2], data: f64Bits(values) }]);
    }
  }
  return saveSafetensors(entries, { format: 'adaptc-adamw', step: String(step) });
}

/** The state of each trained tensor from a file optimizerFile wrote, all at `step`. */
export function readOptimizerFile(
  tensors: TensorMap,
  trained: readonly string[],
  step: number,
  file: string,
): Map<string, OptimizerTensorState> {
  const states = new Map<string, OptimizerTensorState>();
  const moment = (name: string) => {
    const wide = tensors.get(`${name}.f64`);
    if (wide && wide.data instanceof Int32Array) return fromBits(wide.data);
    const narrow = tensors.get(name);
    if (!narrow || !(narrow.data instanceof Float32Array))
      throw new CliError(`${file}: error: no F32 tensor '${name}'`);
    return narrow.data;
  };
  for (const name of trained)
    states.set(name, {
      step,
      expAvg: moment(`${name}.exp_avg`),
      expAvgSq: moment(`${name}.exp_avg_sq`),
    });
  return states;
}

function f64Bits(values: Float64Array): Int32Array {
  const view = new DataView(new ArrayBuffer(values.length * 8));
  values.forEach((value, i) => view.setFloat64(8 * i, value, true));
  const out = new Int32Array(values.length * 2);
  for (let i = 0; i < out.length; i++) out[i] = view.getInt32(4 * i, true);
  return out;
}

function fromBits(bits: Int32Array): Float64Array {
  const view = new DataView(new ArrayBuffer(bits.length * 4));
  bits.forEach((value, i) => view.setInt32(4 * i, value, true));
  return Float64Array.from({ length: bits.length / 2 }, (_, i) => view.getFloat64(8 * i, true));
}
