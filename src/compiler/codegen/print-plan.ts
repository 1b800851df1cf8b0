import {
  evaluateSize,
  type DispatchSpec,
  type GpuPlan,
  type SizeExpr,
} from '../../runtime/program.js';

function formula(size: SizeExpr): string {
  const terms = [
    size.perToken ? `${size.perToken}·B·T` : '',
    size.perSequence ? `${size.perSequence}·B` : '',
    size.fixed ? `${size.fixed}` : '',
  ].filter(Boolean);
  const sum = terms.join(' + ') || '0';
  return size.divide === 1 ? sum : `⌈(${sum}) / ${size.divide}⌉`;
}

/** Bytes of the planned activation buffers for B·T tokens, and without reuse, for comparison. */
export function plannedBytes(plan: GpuPlan, batch: number, seq: number): number {
  return plan.buffers.reduce((n, b) => n + 4 * evaluateSize(b, batch, seq), 0);
}

/** How many dispatches run each kernel, at load and in a forward pass. */
function dispatchesPerKernel(plan: GpuPlan): number[] {
  const uses = plan.kernels.map(() => 0);
  for (const dispatch of [...(plan.loadDispatches ?? []), ...plan.dispatches])
    uses[dispatch.kernel]!++;
  return uses;
}

function dispatchLines(dispatches: readonly DispatchSpec[]): string[] {
  return dispatches.map((d, i) => {
    const args = d.args
      .map((a) => (a.kind === 'buffer' ? `b${a.buffer}` : `w${a.upload}`))
      .join(', ');
    return `  ${String(i).padStart(3)} k${d.kernel} (${args}) groups ${formula(d.groups)}  # ${d.label}`;
  });
}

/** The weight buffers computed at load, and the load dispatches that compute them, once. */
function loadLines(plan: GpuPlan): string[] {
  const loads = plan.loadDispatches ?? [];
  if (loads.length === 0) return [];
  const computed = plan.uploads.flatMap((u, i) =>
    u.elements === undefined ? [] : [`  w${i} ${u.elements} f32 elements`],
  );
  return [
    'weight buffers computed at load:',
    ...computed,
    '',
    'load-time dispatches (run once, after the weights are uploaded):',
    ...dispatchLines(loads),
    '',
  ];
}

/** The dispatch plan as text: kernels, weight buffers, activation buffers, dispatches. */
export function printPlan(plan: GpuPlan): string {
  const usesOf = dispatchesPerKernel(plan);
  const lines: string[] = [
    `# target ${plan.target}, ${plan.fused ? 'fused' : 'unfused (one kernel per op)'}`,
    `# ${plan.dispatches.length} dispatches, ${plan.kernels.length} distinct kernels, ${plan.uploads.length} weight buffers, ${plan.buffers.length} activation buffers${plan.loadDispatches ? `, ${plan.loadDispatches.length} load-time dispatches` : ''}`,
    `# activation memory: ${plan.buffers.reduce((n, b) => n + 4 * b.perToken, 0)} bytes per token (B=1, T=128: ${plannedBytes(plan, 1, 128)} bytes)`,
    '',
    'kernels:',
    ...plan.kernels.map((k, i) => {
      const uses = usesOf[i]!;
      return `  k${i} ${k.name} (${k.storageBindings} storage bindings, ${uses} dispatch${uses === 1 ? '' : 'es'})`;
    }),
    '',
    'activation buffers (f32 elements):',
    ...plan.buffers.map((b, i) => `  b${i} ${formula(b)}`),
    ...plan.inputs.map((i) => `  input ${i.name} → b${i.buffer}`),
    ...plan.outputs.map((o) => `  output ${o.name} ← b${o.buffer}`),
    '',
    ...loadLines(plan),
    'dispatches:',
    ...dispatchLines(plan.dispatches),
  ];
  return `${lines.join('\n')}\n`;
}

/** Every kernel's WGSL, each under a comment naming it. */
export function printWgsl(plan: GpuPlan): string {
  const usesOf = dispatchesPerKernel(plan);
  return plan.kernels
    .map((k, i) => {
      const uses = usesOf[i]!;
      return `// kernel k${i}: ${k.name}, ${uses} dispatch${uses === 1 ? '' : 'es'}\n${k.wgsl}`;
    })
    .join('\n');
}
