/**
 * How long the seeded initialization of BERT-base's 110 M weights takes (docs/design.md §3),
 * against the 1 s target: on one thread, and on the two that `adapt run` uses.
 * Run: `tsc -p bench/tsconfig.json && node dist/bench/init-speed.js` (`npm run bench` times the
 * two-thread path too, bench/end-to-end.ts).
 */
import { readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { compile } from '../src/compiler/index.js';
import { seededWeights } from '../src/cli/seeded/weights.js';
import type { Program, WeightSpec } from '../src/runtime/program.js';
import { initTensor } from '../src/runtime/weights.js';

const TARGET_MS = 1000;
const HIDDEN = 768;
const FFN = 3072;
const LAYERS = 12;

function normal(name: string, shape: number[]): WeightSpec {
  return { name, shape, init: { kind: 'normal', std: 0.02 } };
}

/** BERT-base's matrices and embeddings (the vectors, a fraction of a percent, left out). */
function bertBaseWeights(): WeightSpec[] {
  const specs = [
    normal('embeddings.word_embeddings.weight', [30522, HIDDEN]),
    normal('embeddings.position_embeddings.weight', [512, HIDDEN]),
    normal('embeddings.token_type_embeddings.weight', [2, HIDDEN]),
  ];
  for (let l = 0; l < LAYERS; l++) {
    const layer = `encoder.layer.${l}`;
    for (const part of ['query', 'key', 'value'])
      specs.push(normal(`${layer}.attention.self.${part}.weight`, [HIDDEN, HIDDEN]));
    specs.push(normal(`${layer}.attention.output.dense.weight`, [HIDDEN, HIDDEN]));
    specs.push(normal(`${layer}.intermediate.dense.weight`, [FFN, HIDDEN]));
    specs.push(normal(`${layer}.output.dense.weight`, [HIDDEN, FFN]));
  }
  specs.push(normal('pooler.dense.weight', [HIDDEN, HIDDEN]));
  return specs;
}

function countOf(spec: WeightSpec): number {
  return spec.shape.reduce((n, d) => n * d, 1);
}

/**
 * The program of `examples/bert-base-pfeiffer.adapt` (its encoder reads hidden states) with
 * BERT-base's embeddings added to its manifest: the 110 M weights of the two-thread path.
 */
function bertBaseProgram(): Program {
  const file = fileURLToPath(new URL('../../examples/bert-base-pfeiffer.adapt', import.meta.url));
  const { program } = compile(readFileSync(file, 'utf8'), { fileName: file, gpu: false });
  if (!program) throw new Error(`${file} does not compile`);
  const embeddings = bertBaseWeights().filter((spec) => spec.name.startsWith('embeddings.'));
  return { ...program, weights: [...embeddings, ...program.weights] };
}

function cpuMs(since: NodeJS.CpuUsage): number {
  const cpu = process.cpuUsage(since);
  return (cpu.user + cpu.system) / 1000;
}

/** adapt run's seeding of BERT-base's 110 M weights on two threads: its values and milliseconds. */
export async function timeSeeding(): Promise<{ values: number; ms: number }> {
  const program = bertBaseProgram();
  const values = program.weights.reduce((n, spec) => n + countOf(spec), 0);
  const start = performance.now();
  await seededWeights(program, 0);
  return { values, ms: performance.now() - start };
}

async function main(): Promise<void> {
  const specs = bertBaseWeights();
  const total = specs.reduce((n, spec) => n + countOf(spec), 0);
  const millions = (total / 1e6).toFixed(1);
  console.log(
    `load average ${loadavg()
      .map((l) => l.toFixed(2))
      .join(', ')}`,
  );

  let cpu = process.cpuUsage();
  let start = performance.now();
  for (const spec of specs) initTensor(spec, 0);
  const oneThread = performance.now() - start;
  console.log(
    `initTensor, one thread: ${millions} M values in ${oneThread.toFixed(0)} ms (${cpuMs(cpu).toFixed(0)} ms CPU, ${((oneThread * 1e6) / total).toFixed(1)} ns a value)`,
  );

  cpu = process.cpuUsage();
  start = performance.now();
  const program = bertBaseProgram();
  const programTotal = program.weights.reduce((n, spec) => n + countOf(spec), 0);
  const tensors = await seededWeights(program, 0);
  const twoThreads = performance.now() - start;
  console.log(
    `seededWeights (adapt run), two threads: ${(programTotal / 1e6).toFixed(1)} M values in ${twoThreads.toFixed(0)} ms (${cpuMs(cpu).toFixed(0)} ms CPU in both)`,
  );
  const same = program.weights.every((spec) => {
    const expected = new Uint32Array(initTensor(spec, 0).buffer);
    const got = new Uint32Array(tensors.get(spec.name)!.data.buffer);
    return got.length === expected.length && got.every((bits, i) => bits === expected[i]);
  });
  console.log(`the two paths give the same bits: ${same ? 'yes' : 'NO'}`);
  console.log(`target ≤ ${TARGET_MS} ms: ${twoThreads <= TARGET_MS ? 'met' : 'missed'}`);
  if (!same) process.exitCode = 1;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await main();
