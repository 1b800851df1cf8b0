import { afterAll, describe, expect, it } from 'vitest';
import { compile } from '../../src/compiler/index.js';
import type { Target } from '../../src/runtime/program.js';
import { seededUniform } from '../../src/runtime/random.js';
import { Runtime } from '../../src/runtime/runtime.js';
import { describeInputs, testInputs, testWeights } from '../helpers/gpu-cases.js';
import { gpuIt, gpuRuntime } from '../helpers/gpu.js';
import { relativeError } from '../helpers/numerics.js';

/**
 * Seeded property test: random small but valid specs (odd sizes, every placement, layer
 * selections, fusion options and graph combinators), random batch and sequence sizes and padding,
 * run on WebGPU with several compile options and compared with the CPU reference.
 */

const SEED = 20260417;
const CASES = 24;
const TOLERANCE = 1e-4;
const WIDTHS = [8, 32, 6, 12, 4, 20, 16];

type Random = () => number;
const int = (random: Random, lo: number, hi: number) => lo + Math.floor(random() * (hi - lo + 1));
const pick = <T>(random: Random, items: readonly T[]): T =>
  items[int(random, 0, items.length - 1)]!;
const chance = (random: Random, p: number) => random() < p;

function shuffle<T>(random: Random, items: readonly T[]): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = int(random, 0, i);
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

/** A random non-empty subset of 0..n-1, sorted. */
function subset(random: Random, n: number): number[] {
  const chosen = Array.from({ length: n }, (_, i) => i).filter(() => chance(random, 0.6));
  return chosen.length > 0 ? chosen : [int(random, 0, n - 1)];
}

/** Writes a sorted layer set as a selection: runs become ranges or single indices, items shuffled. */
function selection(random: Random, layers: readonly number[]): string {
  const items: string[] = [];
  let i = 0;
  while (i < layers.length) {
    let j = i;
    while (j + 1 < layers.length && layers[j + 1] === layers[j]! + 1) j++;
    if (j > i && chance(random, 0.7)) items.push(`${layers[i]}..${layers[j]}`);
    else if (j === i && chance(random, 0.15)) items.push(`${layers[i]}..${layers[i]}`);
    else for (let k = i; k <= j; k++) items.push(String(layers[k]));
    i = j + 1;
  }
  return shuffle(random, items).join(', ');
}

type Site = 'attn' | 'ffn';

interface AdapterSpec {
  name: string;
  lines: string[];
}

interface Case {
  index: number;
  source: string;
  hidden: number;
  batch: number;
  seq: number;
  mask: boolean;
  branches: number | undefined;
  runs: { target: Target; fuse: boolean }[];
  summary: string;
}

function generateCase(index: number, random: Random): Case {
  // The first cases take each width once, so every width is tested whatever the seed; then
  // small widths are drawn more often. Shader compilation is most of this test's time on
  // lavapipe, and its JIT unrolls the constant-bound loops of kernels at d = 16..32 completely,
  // so such a case costs seconds of compilation where d = 4 costs a fraction of one.
  const hidden =
    index < WIDTHS.length
      ? WIDTHS[index]!
      : pick(random, [4, 4, 6, 6, 6, 8, 8, 8, 12, 12, 12, 16, 20, 32]);
  const divisors = Array.from({ length: hidden }, (_, i) => i + 1).filter((h) => hidden % h === 0);
  const heads = pick(random, divisors);
  // Half the time from a few sizes per width, so cases share kernels (shader compilation is
  // most of the cost on lavapipe); otherwise anything in hidden..4·hidden.
  const ffn = chance(random, 0.5)
    ? pick(random, [hidden, 2 * hidden + 1, 3 * hidden - 1, 4 * hidden])
    : int(random, hidden, 4 * hidden);
  const layers = int(random, 1, 3);
  const lines = [
    `model m${index} {`,
    `  hidden ${hidden}`,
    `  heads ${heads}`,
    `  ffn ${ffn}`,
    `  layers ${layers}`,
    `  activation ${pick(random, ['gelu', 'gelu_tanh', 'relu', 'silu'])}`,
    `  norm ${pick(random, ['post', 'pre'])}`,
    `  eps ${pick(random, ['1e-12', '1e-5', '1e-6'])}`,
    `  attention ${pick(random, ['bidirectional', 'causal'])}`,
    '}',
  ];

  const count = pick(random, [1, 2, 2, 3, 3]);
  const fused = count >= 2 && chance(random, 0.5);
  const members = fused
    ? shuffle(random, [0, 1, 2].slice(0, count)).slice(0, int(random, 2, count))
    : [];
  const fusionSite: Site = pick(random, ['attn', 'ffn'] as const);
  // The layers the fusion covers for sure: every member is sequential at fusionSite there.
  const fusionLayers = subset(random, layers);

  const adapters: AdapterSpec[] = [];
  for (let a = 0; a < count; a++) {
    const name = `a${a}`;
    const member = members.includes(a);
    const body: string[] = [];
    const r = int(random, 1, hidden - 1);
    const reduction = Math.floor(hidden / r);
    // `reduction k` gives floor(hidden / k); use it when it lands on a bottleneck below hidden.
    if (chance(random, 0.25) && reduction >= 2) body.push(`reduction ${reduction}`);
    else body.push(`bottleneck ${r}`);
    body.push(
      `activation ${pick(random, ['relu', 'gelu', 'gelu_tanh', 'silu', 'tanh', 'identity'])}`,
    );
    const at: Site[] = [];
    const parallel: Site[] = [];
    for (const site of ['attn', 'ffn'] as const) {
      if (member && site === fusionSite) at.push(site);
      else if (chance(random, 0.5)) (chance(random, 0.6) ? at : parallel).push(site);
    }
    if (at.length + parallel.length === 0)
      (chance(random, 0.6) ? at : parallel).push(pick(random, ['attn', 'ffn'] as const));
    if (at.length > 0) body.push(`at ${shuffle(random, at).join(', ')}`);
    if (parallel.length > 0) body.push(`parallel ${shuffle(random, parallel).join(', ')}`);
    if (chance(random, 0.5)) {
      let chosen = subset(random, layers);
      if (member) chosen = [...new Set([...chosen, ...fusionLayers])].sort((x, y) => x - y);
      body.push(`layers ${selection(random, chosen)}`);
    }
    if (chance(random, 0.5))
      body.push(`scale ${pick(random, ['0.5', '2', '-1.5', '1', '3', '0.25'])}`);
    adapters.push({ name, lines: body });
  }
  for (const adapter of adapters) {
    lines.push(`adapter ${adapter.name} {`, ...adapter.lines.map((l) => `  ${l}`), '}');
  }

  const names = adapters.map((a) => a.name);
  const fusion = fused ? 'fz' : undefined;
  if (fused) {
    lines.push('fusion fz {', `  adapters ${members.map((m) => names[m]).join(', ')}`);
    if (fusionSite === 'attn' || chance(random, 0.5)) lines.push(`  at ${fusionSite}`);
    if (chance(random, 0.5)) lines.push(`  layers ${selection(random, fusionLayers)}`);
    if (chance(random, 0.6))
      lines.push(`  temperature ${pick(random, ['0.5', '2', '1', '0.3', '4'])}`);
    if (chance(random, 0.4)) lines.push('  scale none');
    if (chance(random, 0.4)) lines.push('  value identity');
    if (chance(random, 0.4)) lines.push('  residual on');
    lines.push('}');
  }

  const leaf = (): string => {
    const kinds = ['single', 'stack', 'average'];
    if (fusion) kinds.push('fusion', 'fusion');
    switch (pick(random, kinds)) {
      case 'fusion':
        return fusion!;
      case 'stack': {
        const pool = fusion ? [...names, fusion] : names;
        // Mostly distinct arguments; the same adapter twice now and then (it applies twice).
        const args = shuffle(random, pool).slice(0, int(random, 2, 3));
        if (args.length < 2 || chance(random, 0.15)) args.push(pick(random, pool));
        return `stack(${args.join(', ')})`;
      }
      case 'average': {
        const args = shuffle(random, names).slice(0, int(random, 1, names.length));
        if (chance(random, 0.5)) return `average(${args.join(', ')})`;
        const weights = args.map((_, i) =>
          i === 0 ? pick(random, ['0.7', '3', '1']) : pick(random, ['0.3', '1', '0', '2.5']),
        );
        return `average(${args.map((a, i) => `${a}: ${weights[i]}`).join(', ')})`;
      }
      default:
        return pick(random, fusion ? [...names, fusion] : names);
    }
  };
  let expression: string;
  let branches: number | undefined;
  if (chance(random, 0.3)) {
    branches = int(random, 2, 3);
    expression = `batch(${Array.from({ length: branches }, leaf).join(', ')})`;
  } else {
    expression = leaf();
  }
  lines.push(`graph main = ${expression}`);

  const runs: Case['runs'] = [
    { target: 'software', fuse: true },
    { target: 'software', fuse: false },
  ];
  // A third of the cases also run the 'gpu' kernel profile, fused and unfused in turn.
  if (index % 3 === 0) runs.push({ target: 'gpu', fuse: index % 2 === 0 });
  const batch = int(random, 1, 3);
  const seq = pick(random, [1, 2, 3, 5, 7, 9]);
  const mask = chance(random, 0.7);
  return {
    index,
    source: `${lines.join('\n')}\n`,
    hidden,
    batch,
    seq,
    mask,
    branches,
    runs,
    summary: `d=${hidden} heads=${heads} ffn=${ffn} L=${layers} ${count} adapter(s)${fused ? ' + fusion' : ''}, graph ${expression}, B=${batch} T=${seq}`,
  };
}

const random = seededUniform(SEED);
const cases = Array.from({ length: CASES }, (_, i) => generateCase(i, random));

let gpu: Promise<Runtime> | undefined;
let cpu: Promise<Runtime> | undefined;
afterAll(async () => {
  if (gpu) (await gpu).dispose();
  if (cpu) (await cpu).dispose();
});

describe('the generated specs', () => {
  it('cover every width, placement, layer selection, fusion option and combinator', () => {
    const all = cases.map((c) => c.source).join('\n');
    for (const width of WIDTHS) {
      expect(
        cases.some((c) => c.hidden === width),
        `hidden ${width}`,
      ).toBe(true);
    }
    for (const feature of [
      /^ {2}parallel /m,
      /^ {2}at attn/m,
      /^ {2}at ffn/m,
      /^ {2}reduction /m,
      /^ {2}layers .*(,|\.\.)/m,
      /^ {2}scale -/m,
      /^ {2}activation (tanh|identity)$/m,
      /^ {2}norm pre$/m,
      /^ {2}attention causal$/m,
      /fusion fz \{[^}]*at attn/, // a fusion at the attention site
      /fusion fz \{[^}]*layers /,
      /^ {2}temperature /m,
      /^ {2}scale none$/m,
      /^ {2}value identity$/m,
      /^ {2}residual on$/m,
      /graph main = stack\(/,
      /graph main = average\(/,
      /average\(\w+: /,
      /graph main = fz$/m,
      /graph main = batch\(/,
    ]) {
      expect(all, String(feature)).toMatch(feature);
    }
    for (const seq of [1, 2, 3, 5, 7, 9]) {
      expect(
        cases.some((c) => c.seq === seq),
        `T=${seq}`,
      ).toBe(true);
    }
    for (const batch of [1, 2, 3]) {
      expect(
        cases.some((c) => c.batch === batch),
        `B=${batch}`,
      ).toBe(true);
    }
    expect(cases.some((c) => c.runs.some((r) => r.target === 'gpu'))).toBe(true);
    expect(cases.some((c) => c.mask) && cases.some((c) => !c.mask)).toBe(true);
  });
});

describe(`WebGPU against the CPU reference on ${CASES} random specs (seed ${SEED})`, () => {
  for (const c of cases) {
    gpuIt(`case ${c.index}: ${c.summary}`, async () => {
      const fileName = `case-${c.index}.adapt`;
      const reference = compile(c.source, { fileName, graph: 'main', fuse: false });
      const weightSeed = SEED + c.index;
      const inputSeed = SEED * 31 + c.index;
      const reproduce =
        `weights testWeights(program, ${weightSeed}), inputs testInputs(${c.hidden}, ${c.batch}, ${c.seq}, ` +
        `${inputSeed}, { mask: ${c.mask}, branches: ${c.branches} }) from test/helpers/gpu-cases.ts`;
      const context = (options: string) =>
        `case ${c.index} (seed ${SEED}), ${options}\n${reproduce}\n` +
        `--- spec (compile with graph: 'main') ---\n${c.source}---`;
      expect(reference.diagnostics, context('checking')).toEqual([]);
      const weights = testWeights(reference.program!, weightSeed);
      const inputs = testInputs(c.hidden, c.batch, c.seq, inputSeed, {
        mask: c.mask,
        branches: c.branches,
      });
      const where = describeInputs(inputs);
      cpu ??= Runtime.create({ backend: 'cpu' });
      const onCpu = await (await cpu).load(reference.program!, weights);
      const expected = (await onCpu.run(inputs)).hidden_states.data;
      onCpu.dispose();
      expect(expected.every(Number.isFinite), context(`CPU reference, ${where}`)).toBe(true);

      gpu ??= gpuRuntime();
      const rt = await gpu;
      for (const { target, fuse } of c.runs) {
        const options = `compile(source, { graph: 'main', target: '${target}', fuse: ${fuse} }), ${where}`;
        const compiled = compile(c.source, { fileName, graph: 'main', target, fuse });
        expect(compiled.diagnostics, context(options)).toEqual([]);
        let error: number;
        try {
          const model = await rt.load(compiled.program!, weights);
          try {
            const out = await model.run(inputs);
            expect(out.hidden_states.shape, context(options)).toEqual([c.batch, c.seq, c.hidden]);
            error = relativeError(out.hidden_states.data, expected);
          } finally {
            model.dispose();
          }
        } catch (failure) {
          throw new Error(`${context(options)}\n${String(failure)}`, { cause: failure });
        }
        expect(error, `relative error ${error}: ${context(options)}`).toBeLessThanOrEqual(
          TOLERANCE,
        );
      }
    });
  }
});
