import { totalmem } from 'node:os';
import { onnxInsteadOf } from '../../runtime/onnx/auto.js';
import { Runtime, type BackendName } from '../../runtime/runtime.js';
import { CliError } from '../io.js';
import { userErrors } from '../runtime-errors.js';

export interface BenchBackendOptions {
  readonly backend: BackendName | 'auto';
  readonly target?: string;
  readonly profile: boolean;
  readonly timeout?: number;
}

/** The options given that only WebGPU has a use for: kernels, timestamp queries, a GPU timeout. */
export function webgpuOnlyOptions(options: BenchBackendOptions): string[] {
  return [
    ...(options.target !== undefined ? ['--target'] : []),
    ...(options.profile ? ['--profile'] : []),
    ...(options.timeout !== undefined ? ['--timeout'] : []),
  ];
}

/** `--backend onnx` with a WebGPU-only option is one usage mistake, refused before any work. */
export function requireBenchOptions(options: BenchBackendOptions): void {
  const webgpuOnly = webgpuOnlyOptions(options);
  if (options.backend !== 'onnx' || webgpuOnly.length === 0) return;
  throw new CliError(
    `adapt: error: ${webgpuOnly.join(', ')} ${webgpuOnly.length === 1 ? 'applies' : 'apply'} to WebGPU only, not to --backend onnx`,
  );
}

/**
 * The runtime for --backend. auto runs on ONNX Runtime instead of a software rasterizer, as
 * `adapt run` does, with `choice` saying why; a WebGPU-only option (--target, --profile,
 * --timeout) asks for WebGPU, so auto keeps it then.
 */
export async function createBenchRuntime(
  options: BenchBackendOptions,
): Promise<{ runtime: Runtime; choice?: string }> {
  const create = (backend: BackendName | 'auto') =>
    userErrors(() =>
      Runtime.create({
        backend,
        memoryLimitBytes: totalmem(),
        ...(options.timeout !== undefined ? { runTimeoutMs: options.timeout * 1000 } : {}),
      }),
    );
  const runtime = await create(options.backend);
  if (options.backend !== 'auto' || webgpuOnlyOptions(options).length > 0) return { runtime };
  const choice = await onnxInsteadOf(runtime.adapter);
  if (!choice) return { runtime };
  runtime.dispose();
  return { runtime: await create('onnx'), choice };
}
