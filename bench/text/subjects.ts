import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { readCheckpoint } from '../../src/cli/checkpoint-files.js';
import { specFileReader } from '../../src/cli/load-model.js';
import { compile, SourceFile } from '../../src/compiler/index.js';
import {
  loadSafetensors,
  type LoadedModel,
  type Program,
  type ProgramText,
  type Runtime,
  type TensorMap,
  type TextTokenizer,
} from '../../src/runtime/index.js';
import type { Target } from '../../src/runtime/program.js';

/** The fixture checkpoints' folder, relative to the repository root. */
export const FIXTURES = 'test/fixtures/hf';

/** One model the benchmark classifies with: a spec, and adapter weights beside the checkpoint's. */
export interface SubjectCase {
  readonly name: string;
  /**
   * The spec file, relative to the repository root; for a spec given as `source`, where it would
   * sit (the checkpoint directory is relative to it, and errors name it).
   */
  readonly specPath: string;
  /** The spec's text; read from specPath where absent (a spec with no file of its own). */
  readonly source?: string;
  /** A safetensors file of adapter weights, relative to the repository root. */
  readonly adapters?: string;
}

const bare = (dir: string): SubjectCase => ({
  name: dir,
  specPath: join(FIXTURES, `${dir}.bench.adapt`),
  source: `model tiny from "${dir}"\n`,
});

export const CASES: readonly SubjectCase[] = [
  bare('bert-seq-cls'),
  bare('distilbert-seq-cls'),
  bare('roberta-seq-cls'),
  {
    name: 'bert-seq-cls + fusion',
    specPath: join(FIXTURES, 'bert-seq-cls.fusion.adapt'),
    adapters: join(FIXTURES, 'bert-seq-cls.fusion.adapters.safetensors'),
  },
];

/** A case compiled once, with what every backend loads it with. */
export interface Subject {
  readonly name: string;
  readonly specPath: string;
  /** The spec file, or the spec's text where it has no file of its own. */
  readonly spec: string;
  readonly program: Program;
  readonly text: ProgramText & { readonly head: NonNullable<ProgramText['head']> };
  readonly weights: readonly TensorMap[];
  readonly tokenizer: TextTokenizer;
  /** The checkpoint's files read, for the report. */
  readonly files: readonly string[];
}

/**
 * The case compiled as `adapt run` compiles it (config.json read relative to the spec, fused,
 * for `target`), with the checkpoint's weights and tokenizer and the case's adapters.
 */
export function prepareSubject(root: string, entry: SubjectCase, target: Target): Subject {
  const source = entry.source ?? readFileSync(join(root, entry.specPath), 'utf8');
  const compiled = compile(source, {
    fileName: entry.specPath,
    target,
    readFile: specFileReader(root, entry.specPath),
  });
  const file = new SourceFile(entry.specPath, source);
  const errors = compiled.diagnostics
    .filter((d) => d.severity === 'error')
    .map((d) => {
      const at = d.span ? file.position(d.span.start) : undefined;
      return `${d.file}${at ? `:${at.line}:${at.column}` : ''}: error[${d.code}]: ${d.message}`;
    });
  if (errors.length > 0 || !compiled.program || !compiled.model)
    throw new Error(`${entry.specPath}: does not compile:\n${errors.join('\n')}`);
  const program = compiled.program;
  const checkpoint = compiled.model.base.checkpoint;
  const text = program.model.text;
  if (!checkpoint || !text)
    throw new Error(`${entry.specPath}: the model is not read from a checkpoint`);
  const head = text.head;
  if (!head || head.layout === 'token' || head.layout === 'tied-embeddings')
    throw new Error(`${entry.specPath}: the checkpoint has no sequence classification head`);
  const read = readCheckpoint(root, entry.specPath, checkpoint.dir);
  if (!read.tokenizer) throw new Error(`${read.dir}: no tokenizer.json`);
  const adapters = entry.adapters
    ? [loadSafetensors(readFileSync(join(root, entry.adapters)), entry.adapters)]
    : [];
  return {
    name: entry.name,
    specPath: entry.specPath,
    spec: entry.source === undefined ? entry.specPath : entry.source.trim(),
    program,
    text: { ...text, head },
    weights: [read.weights.tensors, ...adapters],
    tokenizer: read.tokenizer,
    files: [...read.weights.files, ...(entry.adapters ? [entry.adapters] : [])],
  };
}

/** The subject on one runtime; the tokenizer stays with the subject, timed on its own. */
export function loadSubject(runtime: Runtime, subject: Subject): Promise<LoadedModel> {
  return runtime.load(subject.program, subject.weights);
}
