/**
 * What runs inside the benchmark page in headless Chromium: adaptc's runtime bundle and
 * onnxruntime-web's WebGPU execution provider on the same page and the same WebGPU device
 * implementation, the same weights (seeded in the page as in Node) and inputs, alternated round
 * by round. Playwright sends this function's source to the page, so it may use only its argument
 * and what it imports there.
 */
import type * as Compiler from '../../src/compiler/index.js';
import type * as AdaptRuntime from '../../src/runtime/index.js';
import type * as OrtWeb from 'onnxruntime-web';

export interface PageGroup {
  /** The row: a graph of bench/specs, or 'base'. */
  readonly name: string;
  readonly source: string;
  readonly fileName: string;
  /** Whether to compile the bare base model of the spec. */
  readonly base: boolean;
  /** Where the page fetches the same graph's ONNX export. */
  readonly onnxUrl: string;
  /** Untimed rounds, then timed rounds, of this group. */
  readonly warmup: number;
  readonly iters: number;
}

export interface PageArgs {
  readonly groups: readonly PageGroup[];
  readonly batch: number;
  readonly seq: number;
  readonly urls: {
    readonly runtime: string;
    readonly compiler: string;
    readonly ort: string;
    readonly ortMjs: string;
    readonly ortWasm: string;
  };
}

export interface PageGroupResult {
  readonly name: string;
  readonly adaptcSamples: number[];
  readonly ortSamples: number[];
  /** Largest |adaptc − ORT| over the output, relative to ORT's largest |value|. */
  readonly relativeDifference: number;
}

export interface PageResult {
  readonly adapter: string;
  readonly profile: string;
  readonly groups: PageGroupResult[];
}

export async function benchInPage(args: PageArgs): Promise<PageResult> {
  // Specifiers in variables: they are URLs of the page, not modules TypeScript could resolve.
  const { runtime: runtimeUrl, compiler: compilerUrl, ort: ortUrl } = args.urls;
  const rt = (await import(runtimeUrl)) as typeof AdaptRuntime;
  const cc = (await import(compilerUrl)) as typeof Compiler;
  const ort = (await import(ortUrl)) as typeof OrtWeb;
  ort.env.wasm.numThreads = 1;
  ort.env.wasm.wasmPaths = { mjs: args.urls.ortMjs, wasm: args.urls.ortWasm };
  const runtime = await rt.Runtime.create({ backend: 'webgpu' });
  const adapter = runtime.adapter!;
  const target = adapter.profile;
  const groups: PageGroupResult[] = [];
  try {
    for (const group of args.groups) {
      const compileAs = (fuse: boolean) => {
        const result = cc.compile(group.source, {
          fileName: group.fileName,
          fuse,
          target,
          benchmark: { base: group.base },
        });
        if (!result.program) throw new Error(`${group.fileName} does not compile in the page`);
        return result.program;
      };
      const program = compileAs(true);
      const weights = rt.initWeights(compileAs(false), 0);
      const inputs = rt.randomInputs(program, args.batch, args.seq, 1);
      const model = await runtime.load(program, weights);
      const bytes = new Uint8Array(await (await fetch(group.onnxUrl)).arrayBuffer());
      const session = await ort.InferenceSession.create(bytes, {
        executionProviders: ['webgpu'],
        graphOptimizationLevel: 'all',
        extra: { session: { disable_cpu_ep_fallback: '1' } },
      });
      try {
        const hidden = inputs.hidden_states as { data: Float32Array; shape: number[] };
        const [batch, seq, d] = hidden.shape as [number, number, number];
        const feeds: Record<string, OrtWeb.Tensor> = {
          hidden_states: new ort.Tensor('float32', hidden.data, [batch, seq, d]),
          attention_mask: new ort.Tensor('int32', new Int32Array(batch * seq).fill(1), [
            batch,
            seq,
          ]),
        };
        const index = (inputs as { adapter_index?: { data: Int32Array } }).adapter_index;
        if (session.inputNames.includes('adapter_index') && index) {
          feeds.adapter_index = new ort.Tensor('int32', index.data, [batch]);
        }
        const runAdaptc = async () => (await model.run(inputs)).hidden_states!.data;
        const runOrt = async () => {
          const out = (await session.run(feeds)).last_hidden_state!;
          return (await out.getData()) as Float32Array;
        };
        const adaptcSamples: number[] = [];
        const ortSamples: number[] = [];
        let ours: Float32Array | undefined;
        let theirs: Float32Array | undefined;
        for (let round = 0; round < group.warmup + group.iters; round++) {
          let start = performance.now();
          ours = await runAdaptc();
          const adaptcMs = performance.now() - start;
          start = performance.now();
          theirs = await runOrt();
          const ortMs = performance.now() - start;
          if (round >= group.warmup) {
            adaptcSamples.push(adaptcMs);
            ortSamples.push(ortMs);
          }
        }
        let scale = 0;
        let worst = 0;
        for (let i = 0; i < theirs!.length; i++) {
          scale = Math.max(scale, Math.abs(theirs![i]!));
          worst = Math.max(worst, Math.abs(theirs![i]! - ours![i]!));
        }
        groups.push({
          name: group.name,
          adaptcSamples,
          ortSamples,
          relativeDifference: worst / scale,
        });
      } finally {
        await session.release();
        model.dispose();
      }
    }
  } finally {
    runtime.dispose();
  }
  return { adapter: adapter.description || adapter.architecture, profile: target, groups };
}
