import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { writeAdapter, writeHead } from './adapters.js';
import { writeCheckpoint } from './checkpoint.js';
import type { FixtureShape } from './shape.js';

export interface FixtureOptions {
  readonly shape: FixtureShape;
  /** How many adapters (each with its head) the fixture holds: a0, a1, … */
  readonly adapters: number;
  /** One spec per entry, declaring the first that many adapters. */
  readonly specs: readonly number[];
  readonly seed: number;
}

export interface ServeFixture {
  readonly dir: string;
  readonly adapters: readonly string[];
  /** The spec declaring the first `n` adapters, by `n`. */
  readonly specs: ReadonlyMap<number, string>;
  /** Deletes the directory. */
  remove(): void;
}

export const adapterName = (i: number) => `a${i}`;

/** A spec serving the first `count` adapters with their heads; the default graph is a0's. */
export function specSource(count: number): string {
  const names = Array.from({ length: count }, (_, i) => adapterName(i));
  return [
    `# The serving load test's model with ${count} seq_bn adapter${count === 1 ? '' : 's'} and their heads.`,
    'model bert from "bert"',
    '',
    ...names.flatMap((n) => [`adapter ${n} from "adapters/${n}"`, `head ${n} from "heads/${n}"`]),
    '',
    `graph default = ${names[0]}`,
    '',
  ].join('\n');
}

/**
 * Writes the checkpoint, the adapters with their heads and the specs into a fresh directory
 * under the system's temporary folder. `root` is the repository, for the fixtures copied.
 */
export function writeServeFixture(root: string, options: FixtureOptions): ServeFixture {
  const dir = mkdtempSync(join(tmpdir(), 'adaptc-serve-load-'));
  try {
    writeCheckpoint(root, join(dir, 'bert'), options.shape, options.seed);
    const adapters = Array.from({ length: options.adapters }, (_, i) => adapterName(i));
    adapters.forEach((name, i) => {
      // Each file's tensors draw from streams of their own, apart from the checkpoint's.
      const seed = options.seed + 1000 * (i + 1);
      writeAdapter(root, join(dir, 'adapters', name), name, options.shape, seed);
      writeHead(root, join(dir, 'heads', name), name, options.shape, seed + 500);
    });
    const specs = new Map<number, string>();
    for (const count of options.specs) {
      const file = join(dir, `serve-${count}.adapt`);
      writeFileSync(file, specSource(count));
      specs.set(count, file);
    }
    return { dir, adapters, specs, remove: () => rmSync(dir, { recursive: true, force: true }) };
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
}

/** `adapt check` on the specs: rejects with its output when it does not exit 0. */
export async function checkSpecs(adaptBin: string, specs: Iterable<string>): Promise<void> {
  try {
    await promisify(execFile)(process.execPath, [adaptBin, 'check', ...specs]);
  } catch (error) {
    const { stdout, stderr } = error as { stdout?: string; stderr?: string };
    throw new Error(`adapt check refused the load test's specs:\n${stdout ?? ''}${stderr ?? ''}`);
  }
}
