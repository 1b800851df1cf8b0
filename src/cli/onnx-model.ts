import type { CompileResult } from '../compiler/index.js';
import { exportOnnx, OnnxExportError, type OnnxExportOptions } from '../compiler/onnx/index.js';
import { CliError } from './io.js';
import { packageVersion } from './version.js';

/**
 * A graph as lowered, exported to ONNX for `adapt export` and the onnx backend of `adapt run`:
 * this package's version as the producer, and an export error as one error naming the spec.
 */
export function onnxModel(
  file: string,
  ir: NonNullable<CompileResult['ir']>,
  weights: ReadonlyMap<string, Float32Array>,
  options: Omit<OnnxExportOptions, 'fileName' | 'producerVersion'>,
): Uint8Array {
  try {
    return exportOnnx(ir, weights, {
      fileName: file,
      producerVersion: packageVersion(),
      ...options,
    });
  } catch (error) {
    if (error instanceof OnnxExportError) throw new CliError(`${file}: error: ${error.message}`);
    throw error;
  }
}
