import type { ProgramNode } from './ops/node.js';

/**
 * The Program: what the compiler emits and the runtime loads. Plain JSON, so it can be compiled
 * ahead of time and shipped to a browser with only the runtime. The compiler's graph IR nodes are
 * exactly these `ProgramNode`s.
 */

/** A dimension: a number, or the batch size `B` / sequence length `T` bound at run time. */
export type Dim = number | 'B' | 'T';
export type Shape = readonly Dim[];
export type DType = 'f32' | 'i32';

/** The value of one node attribute; the registry (ops/registry.ts) gives each op's attributes their types. */
export type AttrValue = number | string | boolean | readonly number[] | readonly string[];

export type { ProgramNode, NodeOf, Provenance } from './ops/node.js';
export type { OpName } from './ops/registry.js';

/** How a weight is initialized when no weights file is given. */
export type WeightInit =
  | { readonly kind: 'normal'; readonly std: number }
  | { readonly kind: 'zeros' }
  | { readonly kind: 'ones' };

export interface WeightSpec {
  readonly name: string;
  readonly shape: readonly number[];
  readonly init: WeightInit;
  /**
   * Derived at load from a checkpoint tensor of another layout: `tensor` as stored, transposed
   * where `transpose` says (GPT-2's Conv1D [in, out] to [out, in]), then rows [start, end) of its
   * first axis (one of q, k, v of GPT-2's fused `c_attn`).
   */
  readonly from?: {
    readonly tensor: string;
    readonly transpose?: boolean;
    readonly rows?: readonly [number, number];
  };
}

export interface IoSpec {
  readonly name: string;
  readonly dtype: DType;
  readonly shape: Shape;
  /** Node id of the `input` node, or of the node whose value is the output. */
  readonly node: number;
  /** Inputs only: may be omitted at run time (attention_mask defaults to all ones). */
  readonly optional?: boolean;
}

/**
 * How a program read from a checkpoint takes text: sizes its token inputs are checked against,
 * the position-id rule, and the head's labels and scores. Absent for hidden-state programs.
 */
export interface ProgramText {
  readonly family: 'bert' | 'roberta' | 'distilbert' | 'gpt2';
  readonly vocab: number;
  readonly maxPositions: number;
  /** 0 where the family has no token types. */
  readonly typeVocab: number;
  readonly padId?: number;
  /** See CheckpointSpec.positions: 0, 1, … or RoBERTa's count from padding_idx + 1. */
  readonly positions: 'absolute' | 'after-padding';
  readonly head?: {
    /** `adapterhub`: an AdapterHub classification head, one row per sequence (its tagging head is `token`). */
    readonly layout:
      'pooler' | 'dense-tanh' | 'pre-classifier-relu' | 'token' | 'tied-embeddings' | 'adapterhub';
    readonly labels: readonly string[];
    readonly scores: 'softmax' | 'sigmoid';
  };
}

export interface ProgramModelInfo {
  readonly name: string;
  readonly hidden: number;
  readonly heads: number;
  readonly ffn: number;
  readonly layers: number;
  readonly norm: 'post' | 'pre';
  readonly attention: 'bidirectional' | 'causal';
  readonly text?: ProgramText;
}

/** A count that scales with the run's sizes: ceil((perToken·B·T + perSequence·B + fixed) / divide). */
export interface SizeExpr {
  readonly perToken: number;
  readonly perSequence: number;
  readonly fixed: number;
  readonly divide: number;
}

/** The value of a size at a run's batch and sequence length. */
export function evaluateSize(size: SizeExpr, batch: number, seq: number): number {
  return Math.ceil(
    (size.perToken * batch * seq + size.perSequence * batch + size.fixed) / size.divide,
  );
}

export type Target = 'software' | 'gpu';

export interface KernelSpec {
  readonly name: string;
  readonly wgsl: string;
  /** Storage bindings 1..n after the params uniform at binding 0; the last one is written. */
  readonly storageBindings: number;
}

/** Part of a weight buffer: a weight as stored or transposed, optionally a window of its columns. */
export interface WeightPart {
  readonly weight: string;
  readonly transpose: boolean;
  /** [start, end) of the last axis after transposing: a slice of a weight too big to bind whole. */
  readonly columns?: readonly [number, number];
}

/**
 * One GPU buffer of weights: its parts back to back. A buffer computed at load has no parts but
 * a size, `elements` f32 values, which one of the plan's load dispatches writes.
 */
export interface WeightUpload {
  readonly parts: readonly WeightPart[];
  readonly elements?: number;
}

export type DispatchArg =
  | { readonly kind: 'buffer'; readonly buffer: number }
  | { readonly kind: 'weights'; readonly upload: number };

export interface DispatchSpec {
  readonly kernel: number;
  /** The id of the graph node it computes. */
  readonly node: number;
  /** Which of that node's dispatches this is, from 0 (a node split over bound limits has several). */
  readonly part: number;
  /** For people reading a plan: the node and its provenance, e.g. `%12 linear (L0/ffn/base)`. */
  readonly label: string;
  readonly args: readonly DispatchArg[];
  /** Workgroups, flat; the runtime lays them out in x and y within the per-dimension limit. */
  readonly groups: SizeExpr;
}

/** How to run the graph on WebGPU: kernels, weight buffers, planned activation buffers, dispatches. */
export interface GpuPlan {
  readonly target: Target;
  readonly fused: boolean;
  readonly kernels: readonly KernelSpec[];
  readonly uploads: readonly WeightUpload[];
  /** Activation buffers after memory planning, in 4-byte elements. */
  readonly buffers: readonly SizeExpr[];
  readonly inputs: readonly { readonly name: string; readonly buffer: number }[];
  readonly outputs: readonly { readonly name: string; readonly buffer: number }[];
  readonly dispatches: readonly DispatchSpec[];
  /**
   * Run once, in order, after the weights are uploaded and before any forward pass: each computes
   * a load-time node (`weight_product`) from weight buffers into a computed one, its last arg,
   * which forward dispatches then bind as weights. Absent where there are none.
   */
  readonly loadDispatches?: readonly DispatchSpec[];
}

/** One stacked tensor of an adapter-slots program: slot i holds adapter i's tensor `perAdapter`. */
export interface SlotWeight {
  /** The program weight, [count, ...the adapter's tensor shape]. */
  readonly name: string;
  readonly shape: readonly number[];
  /** The tensor one adapter's weights hold, with its name as the literal `{adapter}`. */
  readonly perAdapter: string;
}

/**
 * An adapter-slots program (compile option `slots`): one adapter's graph whose per-adapter
 * tensors are stacked over `count` slots, each sequence computed with the adapter in slot
 * adapter_index[b]. Slots are filled with writeWeights after load.
 */
export interface ProgramSlots {
  readonly count: number;
  /** The template adapter the program was compiled for. */
  readonly adapter: string;
  /** Its slotSignature: every adapter of equal signature can take a slot. */
  readonly signature: string;
  readonly weights: readonly SlotWeight[];
  /** The weight [count] holding each slot's scale. */
  readonly scale: string;
}

/** The most slots one program holds. */
export const MAX_SLOTS = 1024;

export const PROGRAM_FORMAT = 'adaptc-program';
export const PROGRAM_VERSION = 1;

export interface Program {
  readonly format: typeof PROGRAM_FORMAT;
  readonly version: typeof PROGRAM_VERSION;
  readonly source: string;
  readonly graph: string;
  readonly model: ProgramModelInfo;
  /** Branch count of a batch(...) graph; adapter_index values must lie in 0..branches-1. */
  readonly branches?: number;
  /**
   * The branches of a parallel(...) graph, each run on the whole batch: its outputs are
   * `last_hidden_state.NAME` (`hidden_states.NAME`) and, where the branch ends in a head,
   * `logits.NAME`, for each NAME here.
   */
  readonly parallel?: readonly string[];
  /** Present for an adapter-slots program; `branches` is then its slot count. */
  readonly slots?: ProgramSlots;
  readonly inputs: readonly IoSpec[];
  readonly outputs: readonly IoSpec[];
  readonly weights: readonly WeightSpec[];
  /** The graph, in topological order (every input id is smaller than the node's id). */
  readonly nodes: readonly ProgramNode[];
  /** The same graph as WebGPU work; absent in programs compiled for the CPU reference only. */
  readonly gpu?: GpuPlan;
}
