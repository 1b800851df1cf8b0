import { AdaptRuntimeError } from '../errors.js';

/**
 * The lines Dawn writes to stderr the first time an instance enumerates a Vulkan adapter whose
 * driver reports more dynamic buffers per pipeline layout than Dawn supports (lavapipe 1000000,
 * RADV 500000; Dawn caps both at 16). Dawn prints them with an unconditional `fprintf` while it
 * reads the adapter's limits, before any device or limit is requested, so no option avoids
 * them, and Node cannot point its own stderr elsewhere around the call: a parent process drops
 * them from its child's stderr. This runtime uses no dynamic offsets, so the cap costs nothing.
 */
export const DAWN_ADAPTER_WARNING =
  /^Warning: maxDynamic(?:Uniform|Storage)BuffersPerPipelineLayout artificially reduced from \d+ to \d+ to fit dynamic offset allocation limit\.$/;

/** The `webgpu` package's object must stay reachable for the device's whole life (docs/design.md §6). */
let nodeGpu: GPU | undefined;

/**
 * The GPU entry point: the one given, else the browser's `navigator.gpu`, else Dawn through the
 * `webgpu` package in Node. The package is imported only here and only when needed, so browser
 * bundles never pull it in.
 */
export async function acquireGpu(given?: GPU): Promise<GPU> {
  if (given) return given;
  const navigatorGpu = (globalThis as { navigator?: { gpu?: GPU } }).navigator?.gpu;
  if (navigatorGpu) return navigatorGpu;
  if (nodeGpu) return nodeGpu;
  if (typeof process === 'undefined' || !process.versions?.node) {
    throw new AdaptRuntimeError('WebGPU is not available here: navigator.gpu is missing');
  }
  process.env.XDG_RUNTIME_DIR ??= '/tmp';
  const packageName = 'webgpu';
  let module: { create: (options: string[]) => GPU };
  try {
    module = (await import(/* @vite-ignore */ packageName)) as typeof module;
  } catch (error) {
    throw new AdaptRuntimeError(
      `cannot load the 'webgpu' package for Dawn in Node: ${(error as Error).message}`,
    );
  }
  nodeGpu = module.create([]);
  return nodeGpu;
}

/** What the runtime tells about an adapter, and the kernel profile that suits it. */
export interface AdapterDescription {
  readonly vendor: string;
  readonly architecture: string;
  readonly description: string;
  readonly profile: 'software' | 'gpu';
  /**
   * The largest storage binding the device grants (the runtime requests the adapter's limit):
   * what to compile with as `maxBindingBytes`, so that only weights past it are split.
   */
  readonly maxBindingBytes: number;
}

export function describeAdapter(adapter: GPUAdapter): AdapterDescription {
  const info = adapter.info;
  const architecture = info?.architecture ?? '';
  const description = info?.description || info?.device || '';
  const software =
    architecture === 'software' ||
    architecture === 'swiftshader' ||
    /llvmpipe|lavapipe|swiftshader/i.test(description);
  return {
    vendor: info?.vendor ?? '',
    architecture,
    description,
    profile: software ? 'software' : 'gpu',
    maxBindingBytes: Math.min(
      adapter.limits.maxStorageBufferBindingSize,
      adapter.limits.maxBufferSize,
    ),
  };
}
