import type { IrGraph } from './ir/types.js';
import { graphHead } from './graph-head.js';
import type { CheckpointSpec, Composition, Model } from './model.js';
import {
  PROGRAM_FORMAT,
  PROGRAM_VERSION,
  type GpuPlan,
  type IoSpec,
  type Program,
  type ProgramSlots,
  type ProgramText,
} from '../runtime/program.js';

/**
 * The head a program's logits come from: the graph's AdapterHub head where it ends in one, else
 * the checkpoint's; none for parallel(...), whose branches end in heads of their own.
 */
function programHead(model: Model, composition: Composition): ProgramText['head'] {
  if (composition.kind === 'parallel') return undefined;
  const hubHead = graphHead(model, composition);
  if (!hubHead) return model.base.checkpoint?.head;
  return {
    layout: hubHead.type === 'tagging' ? 'token' : 'adapterhub',
    labels: hubHead.labels,
    scores: hubHead.type === 'multilabel_classification' ? 'sigmoid' : 'softmax',
  };
}

/** What the runtime needs to take text for a checkpoint model: sizes, positions rule, head. */
export function programText(checkpoint: CheckpointSpec, head: ProgramText['head']): ProgramText {
  const { family, vocab, maxPositions, typeVocab, padId, positions } = checkpoint;
  return {
    family,
    vocab,
    maxPositions,
    typeVocab,
    ...(padId === undefined ? {} : { padId }),
    positions,
    ...(head ? { head: { layout: head.layout, labels: head.labels, scores: head.scores } } : {}),
  };
}

/**
 * Packages a graph as the runtime's Program artifact. With `slots`, the graph is the slots
 * program of `slots.adapter` (`graphName` is unused): graph `slots(NAME)`, one branch per slot.
 */
export function emitProgram(
  model: Model,
  graphName: string,
  graph: IrGraph,
  extra: { gpu?: GpuPlan; weights?: IrGraph['weights']; slots?: ProgramSlots } = {},
): Program {
  const io = (value: { name: string; node: number; optional?: boolean }): IoSpec => {
    const node = graph.nodes[value.node]!;
    return {
      name: value.name,
      dtype: node.dtype,
      shape: node.shape,
      node: value.node,
      ...(value.optional ? { optional: true } : {}),
    };
  };
  const { slots } = extra;
  const composition: Composition = slots
    ? { kind: 'adapter', name: slots.adapter }
    : model.graphs.get(graphName)!.composition;
  const { base } = model;
  return {
    format: PROGRAM_FORMAT,
    version: PROGRAM_VERSION,
    source: model.fileName,
    graph: slots ? `slots(${slots.adapter})` : graphName,
    model: {
      name: base.name,
      hidden: base.hidden,
      heads: base.heads,
      ffn: base.ffn,
      layers: base.layers,
      norm: base.norm,
      attention: base.attention,
      ...(base.checkpoint
        ? { text: programText(base.checkpoint, programHead(model, composition)) }
        : {}),
    },
    ...(composition.kind === 'batch' ? { branches: composition.branches.length } : {}),
    ...(slots ? { branches: slots.count, slots } : {}),
    ...(composition.kind === 'parallel'
      ? { parallel: composition.branches.map((branch) => branch.name) }
      : {}),
    inputs: graph.inputs.map(io),
    outputs: graph.outputs.map(io),
    weights: extra.weights ?? graph.weights,
    nodes: graph.nodes,
    ...(extra.gpu ? { gpu: extra.gpu } : {}),
  };
}
