import type { IrGraph, IrNode } from '../ir/types.js';
import { OnnxGraphBuilder } from './builder.js';
import { moveToExternalData, type OnnxModelFiles } from './external-data.js';
import { VisibilityBuilder } from './mask.js';
import { formatProvenance } from '../../runtime/ops/node.js';
import { inGroup } from '../../runtime/ops/registry.js';
import type { ProgramText } from '../../runtime/program.js';
import { POSITION_IDS, buildPositionIds } from './positions.js';
import { linear } from './linear.js';
import { translate, type TranslatedOp, type TranslationContext } from './ops.js';
import { rewriteForOnnx } from './rewrites.js';
import {
  IR_VERSION,
  OPSET,
  encodeModel,
  int,
  ints,
  tensorProto,
  valueInfo,
  type ModelProto,
  type NodeProto,
  type ValueInfoProto,
} from './proto.js';

export interface OnnxExportOptions {
  /** The .adapt file the graph came from, named in the model's doc_string. */
  readonly fileName: string;
  readonly graph: string;
  readonly producerVersion?: string;
  /**
   * A checkpoint program's text facts (`program.model.text`): with them the position ids are
   * computed in the graph from `input_ids` (positions.ts) rather than read as an input.
   */
  readonly text?: ProgramText;
  /**
   * Export the graph after the graph-level rewrites that pay off in ONNX Runtime (rewrites.ts),
   * instead of as lowered.
   */
  readonly optimize?: boolean;
  /**
   * Write x · Wᵀ as ONNX Runtime's FusedMatMul (domain com.microsoft) instead of a Transpose of
   * the weight and a MatMul, for a model that only ONNX Runtime runs (the onnx backend): folding
   * the transposes of BERT-base's 86 M weight values is a large part of its session creation.
   */
  readonly ortContribOps?: boolean;
  /**
   * Weights that are graph inputs instead of initializers: the caller feeds them at every run,
   * so they can change between runs without a new session (the slot weights the onnx backend
   * writes with writeWeights).
   */
  readonly weightInputs?: ReadonlySet<string>;
}

/** An IR graph that cannot be exported (a fused op, a missing weight): one clear message. */
export class OnnxExportError extends Error {}

/** ONNX Runtime's operator domain, of FusedMatMul, and the version of it that has that op. */
const ORT_DOMAIN = 'com.microsoft';
const ORT_DOMAIN_VERSION = 1;

/**
 * ONNX names of the graph outputs. ONNX values are single-assignment, so the output cannot share
 * the name `hidden_states` with the input; it takes the Hugging Face encoder output's name.
 */
export const ONNX_OUTPUT_NAMES: Readonly<Record<string, string>> = {
  hidden_states: 'last_hidden_state',
};

const INPUT_DOCS: Readonly<Record<string, string>> = {
  hidden_states: 'float32 [B,T,d]: the layer-0 input',
  attention_mask:
    'int32 [B,T]: 1 attend, 0 padding; required here (all ones when nothing is padded)',
  adapter_index: 'int32 [B]: the batch(...) branch of each sequence, 0..k-1',
  input_ids:
    'int32 [B,T]: token ids from the checkpoint tokenizer, 0..vocab-1, padded on the right with the pad id',
  token_type_ids:
    'int32 [B,T]: segment ids, 0..type_vocab_size-1; required here (all zeros for one segment)',
  position_ids:
    "int32 [B,T]: position ids by the checkpoint's rule: 0, 1, … per sequence, or for RoBERTa and XLM-R padding_idx + 1, + 2, … on non-pad tokens and padding_idx on pads",
};

const elementCount = (shape: readonly number[]) => shape.reduce((n, d) => n * d, 1);

/**
 * The unfused IR graph as an ONNX model (opset 17, default domain only): inputs with symbolic
 * B and T, weights as initializers under their docs/design.md §3 names in PyTorch layout, one or a
 * few standard ONNX nodes per IR node (ops.ts), named `n<id>_<op>` after the IR node.
 */
export function buildOnnxModel(
  lowered: IrGraph,
  weights: ReadonlyMap<string, Float32Array>,
  options: OnnxExportOptions,
): ModelProto {
  const ir = options.optimize ? rewriteForOnnx(lowered) : lowered;
  const b = new OnnxGraphBuilder();
  const masks = new VisibilityBuilder(b);
  const values = new Map<number, string>();
  const transposed = new Map<string, string>();
  const inputs: ValueInfoProto[] = [];

  for (const node of ir.nodes) {
    if (node.op === 'input') {
      const { name } = node.attrs;
      if (name === POSITION_IDS && options.text) {
        values.set(node.id, buildPositionIds(b, options.text, inputIdsOf(ir)));
        continue;
      }
      inputs.push(valueInfo(name, node.dtype, node.shape, INPUT_DOCS[name]));
      values.set(node.id, name);
    } else if (node.op === 'weight') {
      const { name } = node.attrs;
      const shape = node.shape as readonly number[];
      const data = weights.get(name);
      if (!data) throw new OnnxExportError(`no tensor for weight '${name}'`);
      if (data.length !== elementCount(shape)) {
        throw new OnnxExportError(
          `weight '${name}' has ${data.length} values, but its shape [${shape.join(', ')}] needs ${elementCount(shape)}`,
        );
      }
      if (options.weightInputs?.has(name)) inputs.push(valueInfo(name, 'f32', shape));
      else b.initializer(tensorProto(name, 'f32', shape, data));
      values.set(node.id, name);
    } else {
      values.set(node.id, translateNode(b, ir, node, values, masks, { transposed, options }));
    }
  }

  const outputs = ir.outputs.map((output) => {
    const node = ir.nodes[output.node]!;
    const name = ONNX_OUTPUT_NAMES[output.name] ?? output.name;
    const value = values.get(node.id)!;
    const producer = b.nodes.find((n) => n.output!.includes(value));
    if (producer) renameValue(b.nodes, value, name);
    else b.node(`output_${name}`, 'Identity', [value], [name]);
    return valueInfo(name, node.dtype, node.shape);
  });

  const about = `adaptc export of ${options.fileName}, graph '${options.graph}'`;
  return {
    irVersion: IR_VERSION,
    opsetImport: [
      { domain: '', version: OPSET },
      ...(options.ortContribOps ? [{ domain: ORT_DOMAIN, version: ORT_DOMAIN_VERSION }] : []),
    ],
    producerName: 'adaptc',
    producerVersion: options.producerVersion ?? '',
    docString: about,
    metadataProps: [
      { key: 'source', value: options.fileName },
      { key: 'graph', value: options.graph },
    ],
    graph: {
      name: options.graph,
      docString: about,
      node: b.nodes,
      initializer: b.initializers,
      input: inputs,
      output: outputs,
    },
  };
}

/** The name of the token-id input the position ids are computed from. */
function inputIdsOf(ir: IrGraph): string {
  if (!ir.inputs.some((input) => input.name === 'input_ids'))
    throw new OnnxExportError("the graph reads position_ids but has no input 'input_ids'");
  return 'input_ids';
}

/** The model as ONNX protobuf bytes. */
export function exportOnnx(
  ir: IrGraph,
  weights: ReadonlyMap<string, Float32Array>,
  options: OnnxExportOptions,
): Uint8Array {
  return encodeModel(buildOnnxModel(ir, weights, options));
}

/** The model as ONNX protobuf bytes and its weights as external data (external-data.ts). */
export function exportOnnxFiles(
  ir: IrGraph,
  weights: ReadonlyMap<string, Float32Array>,
  options: OnnxExportOptions,
): OnnxModelFiles {
  const model = buildOnnxModel(ir, weights, options);
  const externalData = moveToExternalData(model);
  return { model: encodeModel(model), externalData };
}

/**
 * Emits the ONNX nodes of one IR node. Intermediate nodes are `n<id>_<op>_<k>` writing
 * `v<id>_<k>`; the node that computes the result is renamed `n<id>_<op>` writing `v<id>`.
 */
function translateNode(
  b: OnnxGraphBuilder,
  ir: IrGraph,
  node: IrNode,
  values: ReadonlyMap<number, string>,
  masks: VisibilityBuilder,
  shared: { transposed: Map<string, string>; options: OnnxExportOptions },
): string {
  if (!isTranslated(node)) {
    throw new OnnxExportError(
      `op '${node.op}' (node %${node.id}) has no ONNX translation; export the unfused graph`,
    );
  }
  const prefix = `n${node.id}_${node.op}`;
  const own: NodeProto[] = [];
  const inputs = node.inputs.map((id) => values.get(id)!);
  const docString = node.scope && formatProvenance(node.scope);
  const ctx: TranslationContext = {
    node,
    inputs,
    inputShapes: node.inputs.map((id) => ir.nodes[id]!.shape),
    emit: (opType, ins, attrs = {}, domain = '') => {
      const out = `v${node.id}_${own.length + 1}`;
      own.push(b.node(`${prefix}_${own.length + 1}`, opType, ins, [out], attrs, docString, domain));
      return out;
    },
    f32: (value) => b.f32(value),
    i32: (value) => b.i32(value),
    i64: (list) => b.i64(list),
    matmulTransposed: (index) => {
      const [a, w] = inputs as [string, string];
      // transA only for the load-time product Wᵀ·W', which ONNX Runtime folds and whose
      // FusedMatMul with transA it folds wrong (checked by test/onnx-backend.test.ts).
      if (shared.options.ortContribOps && index === 1)
        return ctx.emit('FusedMatMul', [a, w], { transB: int(1) }, ORT_DOMAIN);
      const source = inputs[index]!;
      let out = shared.transposed.get(source);
      if (!out) {
        out = `${source}__T`;
        b.node(`n${node.inputs[index]}_transpose`, 'Transpose', [source], [out], {
          perm: ints([1, 0]),
        });
        shared.transposed.set(source, out);
      }
      return ctx.emit('MatMul', index === 0 ? [out, w] : [a, out]);
    },
    visibility: (mask, causal) => masks.visibility(mask, causal),
  };
  const result = node.op === 'linear' ? linear({ ...ctx, node }) : translate({ ...ctx, node });
  const producer = own.find((n) => n.output![0] === result);
  if (!producer) return result;
  producer.name = prefix;
  renameValue(own, result, `v${node.id}`);
  return `v${node.id}`;
}

/** Ops the lowering emits have translations, and `linear`; the other fused ops do not. */
function isTranslated(node: IrNode): node is Extract<IrNode, { op: TranslatedOp }> {
  return node.op === 'linear' || (!inGroup(node.op, 'fused') && !inGroup(node.op, 'source'));
}

function renameValue(nodes: readonly NodeProto[], from: string, to: string): void {
  for (const n of nodes) {
    n.input = n.input!.map((name) => (name === from ? to : name));
    n.output = n.output!.map((name) => (name === from ? to : name));
  }
}
