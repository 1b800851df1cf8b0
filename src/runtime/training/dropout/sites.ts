import { BackwardError } from '../../cpu/backward/differentiable-ops.js';
import { ArgumentError } from '../../errors.js';
import { requireSeed } from '../../guards.js';
import type { Program, ProgramNode } from '../../program.js';

/** A run's dropout: the probability of every place, and the seed of the mask stream. */
export interface DropoutSettings {
  /** P in [0, 1): 0 is off. */
  readonly probability: number;
  readonly seed: number;
}

/** A setup's dropout, checked: P in [0, 1) and a u32 seed; undefined where P is 0 (none). */
export function activeDropout(settings: DropoutSettings | undefined): DropoutSettings | undefined {
  if (!settings) return undefined;
  const p = settings.probability;
  if (!(typeof p === 'number' && p >= 0 && p < 1))
    throw new ArgumentError(`dropout.probability must be a number in [0, 1), got ${String(p)}`);
  requireSeed(settings.seed, 'dropout.seed');
  return p > 0 ? settings : undefined;
}

/** Where PyTorch's train mode drops values (docs/training.md, "Dropout"). */
export type DropoutPlace =
  | 'embeddings'
  | 'attention output'
  | 'feed-forward output'
  | 'attention probabilities'
  | 'adapter'
  | 'fusion scores'
  | 'head input';

/**
 * One place dropout applies: the output of `node` as its consumers read it (`output`), or the
 * probabilities inside the attention node `node` (`attention`). `index` is its place in the
 * program's list (by node id), the site of the mask stream.
 */
export interface DropoutSite {
  readonly index: number;
  readonly node: number;
  readonly kind: 'output' | 'attention';
  readonly place: DropoutPlace;
}

/** An AdapterHub head's Linear, or a checkpoint's classifier Linear that Hugging Face drops before. */
const DROPPED_HEAD_WEIGHT =
  /^(heads\.[^.]+\.\d+|classifier|classifier\.dense|classifier\.out_proj)\.weight$/;
const ADAPTER_UP_WEIGHT = /\.adapter_up\.weight$/;
const SCALING_WEIGHT = /\.scaling$/;

/**
 * The dropout sites of a program as lowered ({ fuse: false }), in node order:
 * - the embeddings' output, where the graph computes embeddings (BertEmbeddings,
 *   RobertaEmbeddings, DistilBERT's Embeddings, GPT2Model's `drop`);
 * - each sublayer's output before its residual (BertSelfOutput / BertOutput's `dropout`, GPT-2's
 *   `resid_dropout` and GPT2MLP's `dropout`); DistilBERT drops its FFN output only;
 * - the attention probabilities (`attention_probs_dropout_prob`, DistilBERT's and GPT-2's
 *   `attn_dropout`);
 * - an adapter's scaled up-projection on its output path (adapters' `Adapter.forward`:
 *   `output = self.dropout(up)`; a fusion reads `up` before it, so there it does not apply);
 * - a fusion's scores before their softmax (`BertFusion.forward`: `self.dropout(attention_scores)`);
 * - the input of each head Linear (`PredictionHead.build`: Dropout before each Linear; BERT's and
 *   DistilBERT's classifier, RoBERTa's dense and out_proj).
 */
export function dropoutSites(program: Program): DropoutSite[] {
  const nodes = program.nodes;
  const consumers = consumersOf(nodes);
  const family = program.model.text?.family;
  const found: Omit<DropoutSite, 'index'>[] = [];
  const add = (node: number, kind: DropoutSite['kind'], place: DropoutPlace) =>
    found.push({ node, kind, place });

  const embeddings = embeddingsOutput(program);
  if (embeddings !== undefined) add(embeddings, 'output', 'embeddings');

  const lastOfSublayer = new Map<string, ProgramNode>();
  for (const node of nodes) {
    if (node.op === 'weight' || node.op === 'input' || node.scope?.kind !== 'base') continue;
    lastOfSublayer.set(`${node.scope.layer}/${node.scope.site}`, node);
  }
  for (const node of lastOfSublayer.values()) {
    const site = node.scope!.site;
    if (site === 'attn' && family !== 'distilbert') add(node.id, 'output', 'attention output');
    if (site === 'ffn') add(node.id, 'output', 'feed-forward output');
  }

  for (const node of nodes) {
    if (node.op === 'attention') add(node.id, 'attention', 'attention probabilities');
    const kind = node.scope?.kind;
    if (node.op === 'concat' && kind === 'fusion') add(node.id, 'output', 'fusion scores');
    if ((kind === 'adapter' || kind === 'parallel') && isUpProjection(node, nodes)) {
      const scaled = scaledUp(node, nodes, consumers);
      const readers = consumers[scaled.id]!;
      if (!readers.some((reader) => nodes[reader]!.scope?.kind === 'fusion'))
        add(scaled.id, 'output', 'adapter');
    }
    if (
      node.op === 'matmul' &&
      DROPPED_HEAD_WEIGHT.test(weightName(nodes, node.inputs[1]!) ?? '')
    ) {
      const input = node.inputs[0]!;
      if (consumers[input]!.some((reader) => reader !== node.id))
        throw new BackwardError(
          `node %${input}, the input of head layer %${node.id}, is read elsewhere too: dropout before the head cannot be applied to it`,
        );
      add(input, 'output', 'head input');
    }
  }

  found.sort((a, b) => a.node - b.node || (a.kind === b.kind ? 0 : a.kind === 'output' ? -1 : 1));
  const seen = new Set<string>();
  return found.map((site, index) => {
    const key = `${site.kind}:${site.node}`;
    if (seen.has(key))
      throw new BackwardError(`node %${site.node} is two dropout sites (${site.place})`);
    seen.add(key);
    if (site.kind === 'output' && nodes[site.node]!.op === 'softmax')
      throw new BackwardError(`node %${site.node}: dropout of a softmax's output is not planned`);
    return { ...site, index };
  });
}

function consumersOf(nodes: readonly ProgramNode[]): number[][] {
  const consumers: number[][] = nodes.map(() => []);
  for (const node of nodes) for (const input of node.inputs) consumers[input]!.push(node.id);
  return consumers;
}

function weightName(nodes: readonly ProgramNode[], id: number): string | undefined {
  const node = nodes[id]!;
  return node.op === 'weight' ? node.attrs.name : undefined;
}

/**
 * The layer-0 input a checkpoint graph computes from token ids: the last node before the first
 * layer's (the lowering stamps no layer on the embeddings' nodes).
 */
function embeddingsOutput(program: Program): number | undefined {
  if (!program.inputs.some((input) => input.name === 'input_ids')) return undefined;
  let last: number | undefined;
  for (const node of program.nodes) {
    if (node.scope !== undefined) break;
    if (node.op !== 'weight' && node.op !== 'input') last = node.id;
  }
  return last;
}

/** The bias add of an adapter's up-projection: add(matmul(·, …adapter_up.weight), bias). */
function isUpProjection(node: ProgramNode, nodes: readonly ProgramNode[]): boolean {
  if (node.op !== 'add') return false;
  const product = nodes[node.inputs[0]!]!;
  return (
    product.op === 'matmul' && ADAPTER_UP_WEIGHT.test(weightName(nodes, product.inputs[1]!) ?? '')
  );
}

/** `up * self.scaling`: the up-projection's scaling node where it has one, else the node itself. */
function scaledUp(
  up: ProgramNode,
  nodes: readonly ProgramNode[],
  consumers: readonly number[][],
): ProgramNode {
  const readers = consumers[up.id]!.map((id) => nodes[id]!);
  const scaling = readers.find(
    (reader) =>
      (reader.op === 'scale' && reader.inputs[0] === up.id) ||
      (reader.op === 'mul' &&
        reader.inputs[0] === up.id &&
        SCALING_WEIGHT.test(weightName(nodes, reader.inputs[1]!) ?? '')),
  );
  return scaling && readers.length === 1 ? scaling : up;
}
