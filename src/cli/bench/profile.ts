import type { DispatchSpec, OpName, ProgramNode, Provenance } from '../../runtime/program.js';
import type { Runtime } from '../../runtime/runtime.js';
import { initWeights } from '../../runtime/weights.js';
import { formatTable } from '../table.js';
import { benchPrograms, type BenchSettings } from './measure.js';
import { forwardFlops } from '../../compiler/index.js';
import { randomInputs } from '../../runtime/inputs.js';

export interface KernelGroupTime {
  /** The op and where it sits: `linear · base`, `bottleneck · adapter`, `fusion_mix · fusion`. */
  readonly group: string;
  readonly dispatches: number;
  readonly ms: number;
  readonly share: number;
}

export interface ProfileReport {
  readonly method: string;
  readonly total_ms: number;
  readonly groups: readonly KernelGroupTime[];
  /** Every dispatch: its label, the node's op and provenance, its time and floating-point work. */
  readonly dispatches: readonly {
    readonly label: string;
    readonly op: OpName;
    readonly scope?: Provenance;
    readonly ms: number;
    readonly flops: number;
  }[];
}

/** `linear · adapter`: a node's op and its scope's kind (`graph` outside every scope). */
function groupOf(node: ProgramNode): string {
  return `${node.op} · ${node.scope?.kind ?? 'graph'}`;
}

/** How many dispatches compute each node. */
function partsPerNode(dispatches: readonly DispatchSpec[]): Map<number, number> {
  const parts = new Map<number, number>();
  for (const dispatch of dispatches) parts.set(dispatch.node, (parts.get(dispatch.node) ?? 0) + 1);
  return parts;
}

/** Where a fused forward pass spends its time, per kernel group. */
export async function profileGraph(
  runtime: Runtime,
  source: string,
  fileName: string,
  settings: BenchSettings,
): Promise<ProfileReport> {
  const { fused, unfused } = benchPrograms(source, fileName, settings);
  const model = await runtime.load(fused, initWeights(unfused, 0));
  try {
    if (!model.profile) throw new Error('profiling needs the WebGPU backend');
    const { batch, seq } = settings;
    const profile = await model.profile(randomInputs(fused, batch, seq, 1));
    const gpuDispatches = fused.gpu!.dispatches;
    const totals = new Map<string, { dispatches: number; ms: number }>();
    gpuDispatches.forEach((dispatch, i) => {
      const key = groupOf(fused.nodes[dispatch.node]!);
      const entry = totals.get(key) ?? { dispatches: 0, ms: 0 };
      totals.set(key, { dispatches: entry.dispatches + 1, ms: entry.ms + profile.ms[i]! });
    });
    const total = profile.ms.reduce((a, b) => a + b, 0);
    const groups = [...totals]
      .map(([group, t]) => ({ group, ...t, share: t.ms / total }))
      .sort((a, b) => b.ms - a.ms);
    const parts = partsPerNode(gpuDispatches);
    const dispatches = gpuDispatches.map((dispatch, i) => {
      const node = fused.nodes[dispatch.node]!;
      const flops = forwardFlops([node], batch, seq, fused.nodes) / parts.get(dispatch.node)!;
      const scope = node.scope === undefined ? {} : { scope: node.scope };
      return { label: dispatch.label, op: node.op, ...scope, ms: profile.ms[i]!, flops };
    });
    return { method: profile.method, total_ms: total, groups, dispatches };
  } finally {
    model.dispose();
  }
}

export function renderProfile(report: ProfileReport): string {
  const rows = report.groups.map((g) => [
    g.group,
    String(g.dispatches),
    g.ms.toFixed(2),
    `${(100 * g.share).toFixed(1)}%`,
  ]);
  return `  time per kernel group (${report.method}), fused, ${report.total_ms.toFixed(1)} ms in all\n${formatTable(['kernel group', 'dispatches', 'ms', 'share'], rows)}`;
}
