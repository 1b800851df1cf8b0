import {
  compile,
  hasErrors,
  type CompileOptions,
  type Model,
  graphHead,
} from '../../compiler/index.js';
import type { Program } from '../../runtime/program.js';
import type { LoadOptions } from '../../runtime/runtime.js';
import type { TensorMap } from '../../runtime/safetensors.js';
import { onnxModelForRuntime } from '../onnx-model.js';
import { CliError } from '../io.js';
import { userErrors } from '../runtime-errors.js';
import { readSavedWeights } from '../saved-weights.js';
import type { Engine, Target } from './catalog.js';
import type { ServeContext } from './context.js';
import type { ServedHead } from './results.js';
import { stackedWeights, type SlotMember } from './slot-weights.js';

/** Compiles `source` for the runtime's device, failing with the first error's message. */
export function compileFor(
  context: ServeContext,
  source: string,
  options: Pick<CompileOptions, 'graph' | 'slots'>,
): { program: Program; model: Model; load: LoadOptions } {
  const { runtime } = context;
  const gpu = runtime.backend === 'webgpu';
  // ONNX Runtime runs the graph as lowered, exported after the graph-level rewrites (as run does).
  const onnx = runtime.backend === 'onnx';
  const result = compile(source, {
    fileName: context.file,
    readFile: context.readFile,
    gpu,
    ...(onnx ? { fuse: false } : {}),
    ...(gpu
      ? {
          target: context.options.target ?? runtime.adapter?.profile ?? 'software',
          ...(runtime.adapter ? { maxBindingBytes: runtime.adapter.maxBindingBytes } : {}),
        }
      : {}),
    ...options,
  });
  const error = result.diagnostics.find((d) => d.severity === 'error');
  if (!result.program || !result.model || hasErrors(result.diagnostics))
    throw new CliError(
      `${error?.file ?? context.file}: error: ${error?.message ?? 'cannot be compiled'}`,
    );
  const load = onnx
    ? {
        onnx: onnxModelForRuntime(context.file, result.ir!, {
          graph: result.program.graph,
          optimize: true,
        }),
      }
    : {};
  return { program: result.program, model: result.model, load };
}

/** How a target's logits read: the program's head, with the labels of the adapter's own head. */
export function servedHead(
  program: Program,
  model: Model,
  adapter?: string,
): { head?: ServedHead; noHead?: string } {
  const head = program.model.text?.head;
  if (!head)
    return {
      noHead: "its program ends in no head (the checkpoint has none, or the spec says 'head none')",
    };
  if (head.layout === 'tied-embeddings')
    return { noHead: 'it ends in a language-model head, which predicts tokens, not labels' };
  const own =
    adapter === undefined ? undefined : graphHead(model, { kind: 'adapter', name: adapter });
  return { head: { layout: head.layout, scores: head.scores, labels: own?.labels ?? head.labels } };
}

/** Loads a slot program with `members` in slots 0, 1, …; the rest stay free. */
export async function loadSlotEngine(
  context: ServeContext,
  { program, load }: { program: Program; load: LoadOptions },
  members: readonly SlotMember[],
): Promise<Engine> {
  const layout = program.slots!;
  const stacks = stackedWeights(
    layout,
    members.map((member, slot) => ({ member, slot })),
  );
  const model = await userErrors(
    () => context.runtime.load(program, [context.checkpointTensors, stacks], load),
    { weights: context.checkpointFiles, spec: context.file },
  );
  const free = Array.from({ length: layout.count - members.length }, (_, i) => members.length + i);
  return { name: `slots(${layout.adapter})`, program, model, slots: { layout, free } };
}

/** Loads the program of one graph of `source`, with the weights `adapt run` would bind. */
export async function loadGraphEngine(
  context: ServeContext,
  source: string,
  graph: string,
  name: string,
): Promise<Engine> {
  const { program, model, load } = compileFor(context, source, { graph });
  const saved = readSavedWeights(context.io.cwd, context.file, model, graph);
  const weights: TensorMap[] = [
    context.checkpointTensors,
    ...saved.tensors,
    ...context.given.map((g) => g.tensors),
  ];
  const files = [...context.checkpointFiles, ...saved.files, ...context.given.map((g) => g.file)];
  const loaded = await userErrors(() => context.runtime.load(program, weights, load), {
    weights: files,
    spec: context.file,
  });
  return { name, program, model: loaded };
}

export function newTarget(fields: Omit<Target, 'pending' | 'removed'>): Target {
  return { ...fields, pending: 0, removed: false };
}
