import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { repoRoot } from '../helpers/cli.js';

/** The rows of the tiny runs: label names, and one integer id. */
export const TINY_ROWS = [
  { text: 'I love this film', label: 'positive' },
  { text: 'the movie was bad', label: 'negative' },
  { text: 'hello world', label: 1 },
  { text: 'this film is not good', label: 'negative' },
  { text: 'the movie was great', label: 'positive' },
];

export interface TinyTraining {
  readonly dir: string;
  /** The checkpoint's directory (bert-seq-cls, labels negative, neutral, positive). */
  readonly checkpoint: string;
  /** Adapters `a` (graph default) and `b` (graph other) on the checkpoint. */
  readonly spec: string;
  /** TINY_ROWS as JSONL. */
  readonly data: string;
}

/** A new temporary directory holding a spec and data for `adapt train` on the tiny checkpoint. */
export function tinyTraining(prefix: string): TinyTraining {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  const checkpoint = join(repoRoot, 'test/fixtures/hf/bert-seq-cls');
  const spec = join(dir, 'tiny.adapt');
  writeFileSync(
    spec,
    `model tiny from "${checkpoint}"
adapter a { bottleneck 4 activation gelu at ffn }
adapter b { bottleneck 2 at ffn }
graph default = a
graph other = b
`,
  );
  const data = join(dir, 'train.jsonl');
  writeFileSync(data, `${TINY_ROWS.map((row) => JSON.stringify(row)).join('\n')}\n`);
  return { dir, checkpoint, spec, data };
}
