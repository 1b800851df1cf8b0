/**
 * One row of `npm run bench` in Node: adaptc's loaded models and ONNX Runtime's sessions of the
 * same graph's export (same weights, same inputs, output read back in all), alternated within
 * every round so that load from elsewhere falls on all of them alike.
 */
import { modelRunners, timeRounds, type Timing } from '../../src/cli/bench/measure.js';
import type { ModelInputs } from '../../src/runtime/inputs.js';
import type { LoadedModel } from '../../src/runtime/runtime.js';
import {
  openOrtNodeCpu,
  openOrtWasm,
  openOrtWebGpu,
  type OnnxFeeds,
  type PeerSession,
} from '../onnx-runners.js';

export type NodePeer = 'ort_node' | 'ort_wasm' | 'ort_webgpu';

export interface NodeGroupResult<K extends string> {
  readonly adaptc: Record<K, Timing>;
  readonly peers: Partial<Record<NodePeer, Timing>>;
  /** How each peer ran: its package, provider and settings. */
  readonly providers: Partial<Record<NodePeer, string>>;
}

/** ONNX Runtime's feeds from adaptc's inputs: the same hidden states, no padding. */
export function onnxFeeds(inputs: ModelInputs): OnnxFeeds {
  const hidden = inputs.hidden_states as { data: Float32Array; shape: readonly number[] };
  const [batch, seq, d] = hidden.shape as [number, number, number];
  const index = (inputs as { adapter_index?: { data: Int32Array } }).adapter_index;
  return {
    hidden_states: hidden.data,
    attention_mask: new Int32Array(batch * seq).fill(1),
    ...(index ? { adapter_index: index.data } : {}),
    batch,
    seq,
    hidden: d,
  };
}

export async function benchNodeGroup<K extends string>(
  models: Readonly<Record<K, LoadedModel>>,
  inputs: ModelInputs,
  onnx: Uint8Array,
  rounds: { readonly warmup: number; readonly iters: number },
): Promise<NodeGroupResult<K>> {
  const feeds = onnxFeeds(inputs);
  const sessions: Partial<Record<NodePeer, PeerSession>> = {};
  try {
    const node = await openOrtNodeCpu(onnx, feeds);
    if (node) sessions.ort_node = node;
    sessions.ort_wasm = await openOrtWasm(onnx, feeds);
    sessions.ort_webgpu = await openOrtWebGpu(onnx, feeds);
    const peers = Object.keys(sessions) as NodePeer[];
    const runners = {
      ...modelRunners(models, inputs),
      ...Object.fromEntries(peers.map((p) => [p, () => sessions[p]!.run()])),
    } as Record<K | NodePeer, () => Promise<unknown>>;
    const timings = await timeRounds(runners, rounds.warmup, rounds.iters);
    const adaptcKeys = Object.keys(models) as K[];
    return {
      adaptc: Object.fromEntries(adaptcKeys.map((k) => [k, timings[k]])) as Record<K, Timing>,
      peers: Object.fromEntries(peers.map((p) => [p, timings[p]])),
      providers: Object.fromEntries(peers.map((p) => [p, sessions[p]!.provider])),
    };
  } finally {
    for (const session of Object.values(sessions)) await session.release();
  }
}
