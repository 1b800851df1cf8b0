import type { AdapterDescription } from '../webgpu/acquire.js';
import { loadOrt } from './ort.js';

/**
 * Why `--backend auto` should run on ONNX Runtime rather than on this adapter: it is a software
 * rasterizer (lavapipe, SwiftShader), on which ONNX Runtime's CPU kernels are faster than
 * adaptc's shaders, and ONNX Runtime is installed. Undefined where WebGPU should be kept.
 */
export async function onnxInsteadOf(
  adapter: AdapterDescription | undefined,
): Promise<string | undefined> {
  if (adapter?.profile !== 'software') return undefined;
  const ort = await loadOrt();
  if (!ort) return undefined;
  const name = adapter.description || adapter.architecture || adapter.vendor;
  return `the WebGPU adapter (${name}) is a software rasterizer; running on ONNX Runtime (${ort.provider}) instead, --backend webgpu to keep it`;
}
