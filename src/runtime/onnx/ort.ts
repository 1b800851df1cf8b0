/**
 * ONNX Runtime for the `onnx` backend: onnxruntime-node's CPU execution provider where that
 * optional package is installed, else onnxruntime-web's wasm build. Both are imported through
 * specifiers held in variables, so that neither is a dependency of the runtime, bundlers leave
 * them alone, and the runtime type-checks without them; the types below are the part used.
 */

export interface OrtTensor {
  readonly data: unknown;
  readonly dims: readonly number[];
}

export interface OrtSession {
  readonly inputNames: readonly string[];
  readonly outputNames: readonly string[];
  run(feeds: Record<string, OrtTensor>): Promise<Record<string, OrtTensor>>;
  release(): Promise<void>;
}

interface OrtModule {
  readonly InferenceSession: {
    create(model: Uint8Array, options: Record<string, unknown>): Promise<OrtSession>;
  };
  readonly Tensor: new (
    type: 'float32' | 'int32',
    data: Float32Array | Int32Array,
    dims: readonly number[],
  ) => OrtTensor;
  readonly env: { readonly wasm: { numThreads?: number } };
}

export interface OrtRuntime {
  readonly ort: OrtModule;
  /** Which package and execution provider, for people. */
  readonly provider: string;
  readonly executionProviders: readonly string[];
  /**
   * Whether sessions take weights as external data from memory (ORT-web's `externalData`). The
   * native build is given them inside the model, as it has always been run here.
   */
  readonly externalData: boolean;
  /** Settles when the runtime's own start-up (ORT-web's wasm and threads) is over; never rejects. */
  readonly started: Promise<void>;
}

const ORT_NODE = 'onnxruntime-node';
const ORT_WEB = 'onnxruntime-web';
const NODE_V8 = 'node:v8';
/** Threads of the wasm build: as many as the peers of bench/ use. */
export const WASM_THREADS = 2;

function isNotFound(error: unknown, name: string): boolean {
  const { code, message } = error as { code?: string; message?: string };
  return (
    (code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND') &&
    (message ?? '').includes(name)
  );
}

/** The module, or undefined when it is not installed (installed but broken is an error). */
async function importOptional(name: string): Promise<OrtModule | undefined> {
  try {
    return (await import(name)) as OrtModule;
  } catch (error) {
    if (isNotFound(error, name)) return undefined;
    throw error;
  }
}

async function importOrt(): Promise<OrtRuntime | undefined> {
  const native = await importOptional(ORT_NODE);
  if (native)
    return {
      ort: native,
      provider: `${ORT_NODE} cpu`,
      executionProviders: ['cpu'],
      externalData: false,
      started: Promise.resolve(),
    };
  await raiseWasmTieringBudget();
  const web = await importOptional(ORT_WEB);
  if (!web) return undefined;
  web.env.wasm.numThreads = WASM_THREADS;
  return {
    ort: web,
    provider: `${ORT_WEB} wasm (${WASM_THREADS} threads)`,
    executionProviders: ['wasm'],
    externalData: true,
    started: startWasm(web),
  };
}

/**
 * ORT-web compiles its WebAssembly and starts its threads on the first session it creates,
 * about half a second here. Creating one of a one-node model as soon as the package is imported
 * lets that run while the caller seeds or reads the weights. A failure is left for the real
 * session to report.
 */
async function startWasm(web: OrtModule): Promise<void> {
  try {
    const { encodeModel, valueInfo } = await import('../../compiler/onnx/proto.js');
    const model = encodeModel({
      irVersion: 8,
      opsetImport: [{ domain: '', version: 17 }],
      graph: {
        name: 'start',
        node: [{ name: 'identity', opType: 'Identity', input: ['x'], output: ['y'] }],
        input: [valueInfo('x', 'f32', [1])],
        output: [valueInfo('y', 'f32', [1])],
      },
    });
    const session = await web.InferenceSession.create(model, { executionProviders: ['wasm'] });
    await session.release();
  } catch {
    // The session of the program's model fails the same way, with the message.
  }
}

/** Bytes a wasm function runs before V8 recompiles it optimized; V8's default is 1.8 M. */
const WASM_TIERING_BUDGET = 60_000_000;

/**
 * V8 recompiles each WebAssembly function with its optimizing compiler, on background threads,
 * once the function has run a budget of code. ORT-web's 14 MB module has thousands of functions
 * that pass V8's default budget while a session is created, and on two cores their recompiling
 * takes the cores from the session and its runs: BERT-base's session creation and first run took
 * about 3.4 s and 17 s of CPU for three runs, against 2.0 s and 10.5 s with this budget, which
 * leaves only the hot kernels to recompile. Set in Node before the module is compiled (the flag
 * is read then); the browser keeps its own tiering.
 */
export async function raiseWasmTieringBudget(): Promise<void> {
  if (typeof process === 'undefined' || !process.versions?.node) return;
  const v8 = (await import(NODE_V8)) as { setFlagsFromString(flags: string): void };
  v8.setFlagsFromString(`--wasm-tiering-budget=${WASM_TIERING_BUDGET}`);
}

let loading: Promise<OrtRuntime | undefined> | undefined;

/** ONNX Runtime, imported once; undefined when neither package is installed. */
export function loadOrt(): Promise<OrtRuntime | undefined> {
  loading ??= importOrt();
  return loading;
}

export const ORT_MISSING = `the onnx backend needs ONNX Runtime: install ${ORT_NODE} or ${ORT_WEB}`;

/** Which ONNX Runtime the onnx backend runs on, for people; undefined when none is installed. */
export async function ortProvider(): Promise<string | undefined> {
  return (await loadOrt())?.provider;
}
