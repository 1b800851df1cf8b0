/**
 * Runners for the ONNX export under ONNX Runtime, to time the same graph outside adaptc. Each
 * `open…` makes a session with its inputs bound (a `PeerSession`), so that a bench can alternate
 * its runs with adaptc's; `time…` runs one alone.
 *
 * - `openOrtNodeCpu`: onnxruntime-node's CPU execution provider (native, multithreaded), when that
 *   optional package is installed.
 * - `openOrtWasm`: onnxruntime-web's wasm execution provider in Node, `WASM_CPU_THREADS` threads.
 * - `openOrtWebGpu`: onnxruntime-web's WebGPU execution provider in Node, over Dawn (the `webgpu`
 *   package), the same WebGPU implementation adaptc's runtime uses here, waiting as it does.
 * - `timeOrtCpu`: onnxruntime-node where installed, else the wasm one; `timeOrtWebGpu`.
 *
 * Each run is the wall time of `session.run(feeds)` with the output read back to the CPU
 * (ORT-web's default output location 'cpu' downloads it, as adaptc's runtime does).
 */
import fs from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import type * as OrtWeb from 'onnxruntime-web';
import {
  decodeModel,
  encodeModel,
  valueInfo,
  type ModelProto,
  type NodeProto,
} from '../src/compiler/onnx/proto.js';
import { raiseWasmTieringBudget } from '../src/runtime/onnx/ort.js';
import { gpuWait } from '../src/runtime/webgpu/wait.js';

export interface OnnxTiming {
  /** Milliseconds per run: median, fastest, slowest and interquartile range over `samples`. */
  median: number;
  min: number;
  max: number;
  iqr: number;
  samples: number[];
  /** The execution provider every node ran on. */
  provider: string;
  /** Milliseconds of `InferenceSession.create` (ORT-web's wasm and device init excluded). */
  sessionMs: number;
}

export interface OnnxFeeds {
  hidden_states: Float32Array;
  attention_mask: Int32Array;
  /** [B]: only for graphs with a batch(...) composition. */
  adapter_index?: Int32Array;
  batch: number;
  seq: number;
  hidden: number;
}

type OrtModule = typeof OrtWeb;
type Tensor = OrtWeb.Tensor;

const require = createRequire(import.meta.url);

/** Linear-interpolated quantile of sorted values. */
function quantile(sorted: readonly number[], q: number): number {
  const at = (sorted.length - 1) * q;
  const lo = Math.floor(at);
  const hi = Math.ceil(at);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (at - lo);
}

function summarize(samples: number[], provider: string, sessionMs: number): OnnxTiming {
  const sorted = [...samples].sort((a, b) => a - b);
  return {
    median: quantile(sorted, 0.5),
    min: sorted[0]!,
    max: sorted[sorted.length - 1]!,
    iqr: quantile(sorted, 0.75) - quantile(sorted, 0.25),
    samples,
    provider,
    sessionMs,
  };
}

function checkFeeds(feeds: OnnxFeeds, warmup: number, iters: number): void {
  const { batch, seq, hidden } = feeds;
  if (feeds.hidden_states.length !== batch * seq * hidden) {
    throw new Error(
      `hidden_states has ${feeds.hidden_states.length} values, but [${batch}, ${seq}, ${hidden}] needs ${batch * seq * hidden}`,
    );
  }
  if (feeds.attention_mask.length !== batch * seq) {
    throw new Error(
      `attention_mask has ${feeds.attention_mask.length} values, but [${batch}, ${seq}] needs ${batch * seq}`,
    );
  }
  if (feeds.adapter_index && feeds.adapter_index.length !== batch) {
    throw new Error(`adapter_index has ${feeds.adapter_index.length} values, but [${batch}]`);
  }
  if (!(Number.isInteger(warmup) && warmup >= 0)) throw new Error(`warmup must be >= 0`);
  if (!(Number.isInteger(iters) && iters >= 1)) throw new Error(`iters must be >= 1`);
}

/** The model's inputs as tensors of one ORT package (each package has its own Tensor class). */
function makeFeeds(
  TensorClass: OrtModule['Tensor'],
  feeds: OnnxFeeds,
  inputNames: readonly string[],
): Record<string, Tensor> {
  const { batch, seq, hidden } = feeds;
  const out: Record<string, Tensor> = {
    hidden_states: new TensorClass('float32', feeds.hidden_states, [batch, seq, hidden]),
    attention_mask: new TensorClass('int32', feeds.attention_mask, [batch, seq]),
  };
  if (inputNames.includes('adapter_index')) {
    if (!feeds.adapter_index) throw new Error('this model needs adapter_index [B]');
    out.adapter_index = new TensorClass('int32', feeds.adapter_index, [batch]);
  }
  for (const name of inputNames) {
    if (!out[name]) throw new Error(`the model has an input '${name}' these runners do not feed`);
  }
  return out;
}

interface Session {
  readonly inputNames: readonly string[];
  run(feeds: Record<string, Tensor>): Promise<Record<string, Tensor>>;
  release(): Promise<void>;
}

/** An ONNX Runtime session with its inputs bound: one call of `run` is one timed run. */
export interface PeerSession {
  /** How it ran: the package, its execution provider and settings. */
  readonly provider: string;
  /** Milliseconds of `InferenceSession.create` (ORT-web's wasm and device init excluded). */
  readonly sessionMs: number;
  /** One `session.run` with `last_hidden_state` read back to the CPU; returns that output. */
  run(): Promise<Float32Array>;
  release(): Promise<void>;
}

/** `wait` wraps each run: adaptc's gentle waiting for the WebGPU peer, nothing for the CPU ones. */
function peerSession(
  session: Session,
  feeds: Record<string, Tensor>,
  provider: string,
  sessionMs: number,
  wait: <T>(start: () => Promise<T>) => Promise<T> = (start) => start(),
): PeerSession {
  return {
    provider,
    sessionMs,
    run: () =>
      wait(async () => {
        const results = await session.run(feeds);
        const output = results.last_hidden_state;
        if (!output) throw new Error('the model has no output last_hidden_state');
        // With output location 'cpu' the data was read back inside run(); getData() returns it.
        return (await output.getData()) as Float32Array;
      }),
    release: () => session.release(),
  };
}

/** Warmup runs, then `iters` timed runs; the output (a copy) of the last run. */
async function timeRuns(
  peer: PeerSession,
  warmup: number,
  iters: number,
): Promise<OnnxTiming & { output: Float32Array }> {
  for (let i = 0; i < warmup; i++) await peer.run();
  const samples: number[] = [];
  let last: Float32Array | undefined;
  for (let i = 0; i < iters; i++) {
    const start = performance.now();
    last = await peer.run();
    samples.push(performance.now() - start);
  }
  return {
    ...summarize(samples, peer.provider, peer.sessionMs),
    output: Float32Array.from(last!),
  };
}

async function timePeer(
  open: Promise<PeerSession>,
  warmup: number,
  iters: number,
): Promise<OnnxTiming & { output: Float32Array }> {
  const peer = await open;
  try {
    return await timeRuns(peer, warmup, iters);
  } finally {
    await peer.release();
  }
}

// ---------------------------------------------------------------------------------------------
// CPU: onnxruntime-node's CPU execution provider (optional), onnxruntime-web's wasm one

/**
 * Optional and not in package.json, so `npm ci` leaves it out: its install script downloads CUDA
 * libraries from outside the npm registry. The version is onnxruntime-web's.
 */
const ORT_NODE = 'onnxruntime-node';
export const ORT_NODE_HINT = `${ORT_NODE} not installed (optional: ONNXRUNTIME_NODE_INSTALL=skip npm i --no-save ${ORT_NODE}@1.30.0)`;
/** Threads of onnxruntime-web's wasm CPU provider: the machines this runs on have 2 cores. */
export const WASM_CPU_THREADS = 2;

interface CpuRuntime {
  readonly ort: OrtModule;
  readonly provider: string;
  readonly executionProviders: string[];
}

let ortNode: Promise<CpuRuntime | undefined> | undefined;
let ortWasm: Promise<CpuRuntime> | undefined;

function isNotFound(error: unknown, name: string): boolean {
  const { code, message } = error as { code?: string; message?: string };
  return code === 'ERR_MODULE_NOT_FOUND' && (message ?? '').includes(`'${name}'`);
}

/** The runtime with its first session made, so that sessionMs times only the model's own. */
async function warmed(runtime: CpuRuntime): Promise<CpuRuntime> {
  const { ort, executionProviders } = runtime;
  const warm = await ort.InferenceSession.create(tinyModel(), { executionProviders });
  await warm.release();
  return runtime;
}

async function importOrtNode(): Promise<CpuRuntime | undefined> {
  try {
    // A specifier in a variable: TypeScript does not resolve it, so the bench typechecks
    // whether or not the optional package is installed.
    const ort = (await import(ORT_NODE)) as OrtModule;
    return await warmed({ ort, provider: `${ORT_NODE} cpu`, executionProviders: ['cpu'] });
  } catch (error) {
    // Installed but broken (a missing native binary, say) is an error, not a fallback.
    if (!isNotFound(error, ORT_NODE)) throw error;
    return undefined;
  }
}

async function importOrtWasm(): Promise<CpuRuntime> {
  // The package's Node entry: its own instance of the wasm module, apart from the WebGPU one,
  // compiled under the same V8 tiering budget as adaptc's onnx backend.
  await raiseWasmTieringBudget();
  const ort = (await import('onnxruntime-web')) as OrtModule;
  ort.env.wasm.numThreads = WASM_CPU_THREADS;
  return warmed({
    ort,
    provider: `onnxruntime-web wasm cpu (${WASM_CPU_THREADS} threads)`,
    executionProviders: ['wasm'],
  });
}

async function openCpu(
  runtime: CpuRuntime,
  model: Uint8Array,
  feeds: OnnxFeeds,
): Promise<PeerSession> {
  const { ort, provider, executionProviders } = runtime;
  const start = performance.now();
  const session = await ort.InferenceSession.create(model, {
    executionProviders,
    graphOptimizationLevel: 'all',
  });
  const sessionMs = performance.now() - start;
  return peerSession(
    session,
    makeFeeds(ort.Tensor, feeds, session.inputNames),
    provider,
    sessionMs,
  );
}

/** Whether onnxruntime-node can be loaded (it is optional). */
export async function hasOrtNode(): Promise<boolean> {
  ortNode ??= importOrtNode();
  return (await ortNode) !== undefined;
}

/** onnxruntime-node's CPU execution provider; undefined where that package is not installed. */
export async function openOrtNodeCpu(
  model: Uint8Array,
  feeds: OnnxFeeds,
): Promise<PeerSession | undefined> {
  checkFeeds(feeds, 0, 1);
  ortNode ??= importOrtNode();
  const runtime = await ortNode;
  return runtime && openCpu(runtime, model, feeds);
}

/** onnxruntime-web's wasm execution provider in Node with `WASM_CPU_THREADS` threads. */
export async function openOrtWasm(model: Uint8Array, feeds: OnnxFeeds): Promise<PeerSession> {
  checkFeeds(feeds, 0, 1);
  ortWasm ??= importOrtWasm();
  return openCpu(await ortWasm, model, feeds);
}

/** onnxruntime-node's CPU execution provider, or onnxruntime-web's wasm one without it. */
export async function timeOrtCpu(
  model: Uint8Array,
  feeds: OnnxFeeds,
  warmup: number,
  iters: number,
): Promise<OnnxTiming & { output: Float32Array }> {
  checkFeeds(feeds, warmup, iters);
  const open = async () => (await openOrtNodeCpu(model, feeds)) ?? openOrtWasm(model, feeds);
  return timePeer(open(), warmup, iters);
}

// ---------------------------------------------------------------------------------------------
// onnxruntime-web, WebGPU execution provider over Dawn

/** Dawn's GPU object: kept reachable for the life of the process (its devices die with it). */
let dawnGpu: GPU | undefined;
let ortWeb: Promise<OrtModule> | undefined;

/** The folder of onnxruntime-web's dist files (its exports map does not list them). */
function ortWebDist(): string {
  // The package's `require` entry (node condition) is dist/ort.node.min.js.
  return dirname(require.resolve('onnxruntime-web'));
}

interface DawnModule {
  create(flags: string[]): GPU;
  globals: Record<string, unknown>;
}

const kWriteBufferPatched = Symbol.for('adaptc.bench.writeBufferCopiesShared');

/**
 * Dawn's `GPUQueue.writeBuffer` rejects views of a SharedArrayBuffer, and ORT-web's wasm memory
 * is shared (its threaded build), so such sources are copied into a plain ArrayBuffer first.
 */
function patchWriteBuffer(queueClass: { prototype: GPUQueue } | undefined): void {
  if (!queueClass?.prototype) throw new Error("the 'webgpu' package has no GPUQueue global");
  const proto = queueClass.prototype as GPUQueue & { [kWriteBufferPatched]?: boolean };
  if (proto[kWriteBufferPatched]) return;
  const writeBuffer = proto.writeBuffer as (...args: unknown[]) => undefined;
  proto.writeBuffer = function (
    this: GPUQueue,
    buffer: GPUBuffer,
    bufferOffset: number,
    data: BufferSource | SharedArrayBuffer,
    dataOffset?: number,
    size?: number,
  ): undefined {
    const shared =
      typeof SharedArrayBuffer !== 'undefined' &&
      (data instanceof SharedArrayBuffer ||
        (ArrayBuffer.isView(data) && data.buffer instanceof SharedArrayBuffer));
    if (!shared) return writeBuffer.call(this, buffer, bufferOffset, data, dataOffset, size);
    // dataOffset and size count elements of a typed array, bytes of a buffer or DataView.
    const view = ArrayBuffer.isView(data) ? data : new Uint8Array(data as SharedArrayBuffer);
    const element = 'BYTES_PER_ELEMENT' in view ? (view as Uint8Array).BYTES_PER_ELEMENT : 1;
    const start = (dataOffset ?? 0) * element;
    const length = size !== undefined ? size * element : view.byteLength - start;
    const copy = new Uint8Array(length);
    copy.set(new Uint8Array(view.buffer, view.byteOffset + start, length));
    return writeBuffer.call(this, buffer, bufferOffset, copy);
  } as GPUQueue['writeBuffer'];
  proto[kWriteBufferPatched] = true;
}

/** navigator.gpu (reused when something already set it, else Dawn's), then ORT-web. */
async function loadOrtWeb(): Promise<OrtModule> {
  const g = globalThis as unknown as { navigator?: { gpu?: GPU } } & Record<string, unknown>;
  process.env.XDG_RUNTIME_DIR ??= '/tmp';
  const dawn = (await import('webgpu')) as unknown as DawnModule;
  // The GPU classes as globals (GPUBufferUsage and the like), which ORT-web reads.
  for (const [name, value] of Object.entries(dawn.globals)) {
    if (!(name in g)) g[name] = value;
  }
  if (!g.navigator?.gpu) {
    dawnGpu = dawn.create([]);
    // Node 20 has no navigator; Node 21+ has one whose properties are getters.
    if (g.navigator) {
      Object.defineProperty(g.navigator, 'gpu', { value: dawnGpu, configurable: true });
    } else {
      Object.defineProperty(g, 'navigator', {
        value: { gpu: dawnGpu },
        configurable: true,
        writable: true,
      });
    }
  }
  patchWriteBuffer(dawn.globals.GPUQueue as { prototype: GPUQueue } | undefined);
  const dist = ortWebDist();
  await raiseWasmTieringBudget();
  const ort = (await import(
    pathToFileURL(join(dist, 'ort.webgpu.min.mjs')).href
  )) as unknown as OrtModule;
  ort.env.wasm.numThreads = 1;
  ort.env.wasm.proxy = false;
  ort.env.wasm.wasmPaths = pathToFileURL(dist + '/').href;
  // The first session initializes the wasm module and the WebGPU device: do that here, so
  // sessionMs times only the model's own session.
  const warm = await ort.InferenceSession.create(tinyModel(), WEBGPU_OPTIONS);
  await warm.release();
  return ort;
}

/**
 * ORT-web's WebGPU EP has no kernel for `Sum` (the exporter's weighted sum of a fusion), which
 * would put that node on the wasm CPU EP with a GPU→CPU→GPU round trip each run. `Sum` of n
 * tensors is n−1 broadcasting `Add`s, which the WebGPU EP has; the rewrite keeps node order and
 * the output name. Returns undefined when the model has no Sum.
 */
export function sumAsAdds(model: Uint8Array): Uint8Array | undefined {
  if (!Buffer.from(model.buffer, model.byteOffset, model.byteLength).includes('Sum')) {
    return undefined;
  }
  const decoded = decodeModel(model);
  const nodes = (decoded.graph?.node ?? []) as NodeProto[];
  if (!nodes.some((n) => n.opType === 'Sum' && (n.domain ?? '') === '')) return undefined;
  const out: NodeProto[] = [];
  for (const node of nodes) {
    if (node.opType !== 'Sum' || (node.domain ?? '') !== '') {
      out.push(node);
      continue;
    }
    const inputs = node.input ?? [];
    const result = node.output![0]!;
    if (inputs.length === 1) {
      out.push({ name: node.name, opType: 'Identity', input: [inputs[0]!], output: [result] });
      continue;
    }
    let acc = inputs[0]!;
    for (let i = 1; i < inputs.length; i++) {
      const last = i === inputs.length - 1;
      const to = last ? result : `${result}__sum${i}`;
      out.push({
        name: last ? node.name : `${node.name}__add${i}`,
        opType: 'Add',
        input: [acc, inputs[i]!],
        output: [to],
      });
      acc = to;
    }
  }
  decoded.graph!.node = out;
  return encodeModel(decoded as ModelProto);
}

/** A one-node model (Relu of float [1]) whose session initializes the wasm and WebGPU backend. */
function tinyModel(): Uint8Array {
  return encodeModel({
    irVersion: 8,
    opsetImport: [{ domain: '', version: 17 }],
    graph: {
      name: 'warm',
      node: [{ name: 'relu', opType: 'Relu', input: ['x'], output: ['y'] }],
      input: [valueInfo('x', 'f32', [1])],
      output: [valueInfo('y', 'f32', [1])],
    },
  });
}

const WEBGPU_OPTIONS: OrtWeb.InferenceSession.SessionOptions = {
  executionProviders: ['webgpu'],
  graphOptimizationLevel: 'all',
  // Fails session creation when any node would run on the wasm CPU EP instead of WebGPU.
  extra: { session: { disable_cpu_ep_fallback: '1' } },
};

/**
 * Creates the session with the CPU fallback disabled. If that fails because nodes would run on
 * the CPU EP, creates it once more with the fallback allowed and ORT's verbose log captured,
 * and throws with the nodes it placed on the CPU.
 */
async function createWebGpuSession(ort: OrtModule, model: Uint8Array) {
  try {
    return await ort.InferenceSession.create(model, WEBGPU_OPTIONS);
  } catch (error) {
    const message = (error as Error).message ?? String(error);
    if (!/fallback to CPU EP/i.test(message)) throw error;
    const placed = await cpuPlacedNodes(ort, model);
    throw new Error(
      `onnxruntime-web would run ${placed.length > 0 ? placed.length : 'some'} node(s) on its wasm CPU EP, not WebGPU${placed.length > 0 ? `: ${placed.join(', ')}` : ''} (${message})`,
    );
  }
}

/** The nodes ORT places on the CPU EP, from its verbose log (which it writes with fs.writeSync). */
async function cpuPlacedNodes(ort: OrtModule, model: Uint8Array): Promise<string[]> {
  const log: string[] = [];
  const writeSync = fs.writeSync;
  (fs as { writeSync: unknown }).writeSync = (fd: number, data: unknown, ...rest: unknown[]) => {
    if ((fd === 1 || fd === 2) && typeof data === 'string') {
      log.push(data);
      return data.length;
    }
    return (writeSync as (...args: unknown[]) => number)(fd, data, ...rest);
  };
  try {
    const session = await ort.InferenceSession.create(model, {
      executionProviders: ['webgpu'],
      graphOptimizationLevel: 'all',
      logSeverityLevel: 0,
    });
    await session.release();
  } catch {
    // The log so far is what matters.
  } finally {
    fs.writeSync = writeSync;
  }
  const lines = log.join('').split('\n');
  const nodes: string[] = [];
  let onCpu = false;
  for (const line of lines) {
    if (line.includes('Node(s) placed on [')) onCpu = line.includes('[CPUExecutionProvider]');
    else if (onCpu && line.includes('VerifyEachNodeIsAssignedToAnEp]')) {
      const node = line.split('VerifyEachNodeIsAssignedToAnEp]')[1]!.trim();
      if (node) nodes.push(node);
    }
  }
  return nodes;
}

/**
 * onnxruntime-web's WebGPU execution provider in Node, over Dawn, each run inside `gpuWait`: the
 * timer poll adaptc's runtime waits with, instead of Dawn's busy `setImmediate` loop.
 */
export async function openOrtWebGpu(model: Uint8Array, feeds: OnnxFeeds): Promise<PeerSession> {
  checkFeeds(feeds, 0, 1);
  ortWeb ??= loadOrtWeb();
  const ort = await ortWeb;
  const rewritten = sumAsAdds(model);
  const start = performance.now();
  const session = await createWebGpuSession(ort, rewritten ?? model);
  const sessionMs = performance.now() - start;
  // With 'webgpu' the only EP listed, create() throws if that backend did not initialize, and
  // with the CPU fallback disabled every node runs on it; the device is one more check.
  const device = (await ort.env.webgpu.device) as GPUDevice | undefined;
  if (!device) {
    await session.release();
    throw new Error('onnxruntime-web has no WebGPU device');
  }
  const tensors = makeFeeds(ort.Tensor, feeds, session.inputNames);
  const provider = `onnxruntime-web webgpu over Dawn, gentle wait${rewritten ? ', Sum as Adds' : ''}`;
  return peerSession(session, tensors, provider, sessionMs, gpuWait);
}

/** Times `openOrtWebGpu`'s session: warm-up runs, then `iters` timed runs. */
export async function timeOrtWebGpu(
  model: Uint8Array,
  feeds: OnnxFeeds,
  warmup: number,
  iters: number,
): Promise<OnnxTiming & { output: Float32Array }> {
  checkFeeds(feeds, warmup, iters);
  return timePeer(openOrtWebGpu(model, feeds), warmup, iters);
}
