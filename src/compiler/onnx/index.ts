// The ONNX exporter's public API. It stays out of src/compiler/index.ts so that bundles of the
// compiler (the playground, dist/web/adaptc-compiler.js) do not carry onnx-proto.
export { exportOnnx, exportOnnxFiles, OnnxExportError, type OnnxExportOptions } from './export.js';
export type { OnnxModelFiles } from './external-data.js';
export { OPSET } from './proto.js';
