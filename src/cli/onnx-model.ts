import type { CompileResult } from '../compiler/index.js';
import {
  exportOnnx,
  exportOnnxFiles,
  OnnxExportError,
  type OnnxExportOptions,
  type OnnxModelFiles,
} from '../compiler/onnx/index.js';
import type { OnnxModelForm } from '../runtime/onnx/session.js';
import { CliError } from './io.js';
import { packageVersion } from './version.js';

type GraphIr = NonNullable<CompileResult['ir']>;
type ExportOptions = Omit<OnnxExportOptions, 'fileName' | 'producerVersion'>;

/** An export error as one error naming the spec; this package's version as the producer. */
function exporting<T>(
  file: string,
  options: ExportOptions,
  run: (options: OnnxExportOptions) => T,
): T {
  try {
    return run({ fileName: file, producerVersion: packageVersion(), ...options });
  } catch (error) {
    if (error instanceof OnnxExportError) throw new CliError(`${file}: error: ${error.message}`);
    throw error;
  }
}

/** A graph as lowered, exported to ONNX for `adapt export`. */
export function onnxModel(
  file: string,
  ir: GraphIr,
  weights: ReadonlyMap<string, Float32Array>,
  options: ExportOptions,
): Uint8Array {
  return exporting(file, options, (full) => exportOnnx(ir, weights, full));
}

/**
 * The model the onnx backend of `adapt run`, `adapt bench` and `adapt serve` runs: ONNX
 * Runtime's own FusedMatMul for x · Wᵀ, the weights as external data where the runtime takes
 * them, and those it asks for (a slot program's) as inputs.
 */
export function onnxModelForRuntime(
  file: string,
  ir: GraphIr,
  options: ExportOptions,
): (
  weights: ReadonlyMap<string, Float32Array>,
  form: OnnxModelForm,
) => Uint8Array | OnnxModelFiles {
  return (weights, form) =>
    exporting(file, { ...options, ortContribOps: true, weightInputs: form.weightInputs }, (full) =>
      form.externalData ? exportOnnxFiles(ir, weights, full) : exportOnnx(ir, weights, full),
    );
}
