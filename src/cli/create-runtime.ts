import { totalmem } from 'node:os';
import { onnxInsteadOf } from '../runtime/onnx/auto.js';
import { Runtime, type RuntimeOptions } from '../runtime/runtime.js';
import { userErrors } from './runtime-errors.js';

/**
 * The runtime for --backend; auto runs on ONNX Runtime instead of a software rasterizer, and
 * `choice` says why, for the command to report (stderr stays for problems).
 */
export async function createRuntime(
  options: { readonly backend: RuntimeOptions['backend']; readonly timeout?: number },
  onNotice: (notice: string) => void,
): Promise<{ runtime: Runtime; choice?: string }> {
  const create = (backend: RuntimeOptions['backend']) =>
    userErrors(() =>
      Runtime.create({
        backend,
        onNotice,
        memoryLimitBytes: totalmem(),
        ...(options.timeout !== undefined ? { runTimeoutMs: options.timeout * 1000 } : {}),
      }),
    );
  const runtime = await create(options.backend);
  if (options.backend !== 'auto') return { runtime };
  const choice = await onnxInsteadOf(runtime.adapter);
  if (!choice) return { runtime };
  runtime.dispose();
  return { runtime: await create('onnx'), choice };
}
