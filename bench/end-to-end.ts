/**
 * The targets of `npm run bench` that are about a whole command or a whole load rather than a
 * 2-layer graph: `--backend onnx` against ONNX Runtime on the plain export (onnx-backend.ts), the
 * seeding of 110 M weights (init-speed.ts), the cold start of 12-layer BERT-base with the driver's
 * shader caches off (cold-start.ts, in a child process), and the README's `adapt run` line,
 * warm: the `adapt` command itself (its bin, `node bin/adapt.js`), which the target is about,
 * and as the README types it, through `npx`, whose own start-up (npm's) comes on top.
 */
import { execFile, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type { ColdStart } from './cold-start.js';
import { timeSeeding } from './init-speed.js';
import { measureOnnxBackend, type OnnxBackendRow } from './onnx-backend.js';

export const RUN_COMMAND = 'adapt run examples/bert-base-pfeiffer.adapt --seq 128';
const RUN_ARGS = RUN_COMMAND.split(' ').slice(1);
const RUN_TIMED = 3;
const root = fileURLToPath(new URL('../../', import.meta.url));

export interface EndToEnd {
  readonly onnx_backend: { readonly provider: string; readonly rows: readonly OnnxBackendRow[] };
  readonly seeding: { readonly values: number; readonly ms: number };
  /** Null where the child could not run (its error in `cold_start_error`). */
  readonly cold_start: ColdStart | null;
  readonly cold_start_error?: string;
  readonly run_command: {
    readonly command: string;
    readonly wall_ms: readonly number[];
    readonly median_ms: number;
    /** The same through `npx adapt`, alternated with the runs above. */
    readonly npx_wall_ms: readonly number[];
  };
}

/** Environment that turns off the drivers' on-disk shader caches (Mesa's and NVIDIA's). */
const NO_SHADER_CACHE = { MESA_SHADER_CACHE_DISABLE: 'true', __GL_SHADER_DISK_CACHE: '0' };

async function coldStart(): Promise<{ result: ColdStart } | { error: string }> {
  const script = fileURLToPath(new URL('cold-start.js', import.meta.url));
  try {
    const { stdout } = await promisify(execFile)(process.execPath, [script], {
      env: { ...process.env, ...NO_SHADER_CACHE },
      maxBuffer: 1 << 20,
    });
    return { result: JSON.parse(stdout.trim().split('\n').at(-1)!) as ColdStart };
  } catch (error) {
    return { error: (error as Error).message.split('\n')[0]! };
  }
}

/** Wall milliseconds of one run of a command in the repository, its output dropped. */
function timeCommand([program, ...args]: readonly string[]): Promise<number> {
  const command = [program, ...args].join(' ');
  const start = performance.now();
  return new Promise((resolve, reject) => {
    const child = spawn(program!, args, { cwd: root, stdio: 'ignore' });
    child.on('error', reject);
    child.on('close', (code) =>
      code === 0
        ? resolve(performance.now() - start)
        : reject(new Error(`${command} exited with ${code}`)),
    );
  });
}

export async function benchEndToEnd(
  options: { readonly iters: number; readonly seq: number },
  log: (line: string) => void,
): Promise<EndToEnd> {
  log('--backend onnx: each graph rewritten against its plain export…');
  const onnx = await measureOnnxBackend(options.iters, options.seq);
  log('seeding 110 M weights on two threads…');
  const seeding = await timeSeeding();
  log('cold start of 12-layer BERT-base, driver shader caches off…');
  const cold = await coldStart();
  log(`${RUN_COMMAND}: once to warm up, then ${RUN_TIMED} timed, alternated with npx…`);
  const bin = [process.execPath, 'bin/adapt.js', ...RUN_ARGS];
  const npx = ['npx', 'adapt', ...RUN_ARGS];
  await timeCommand(npx);
  const wall: number[] = [];
  const npxWall: number[] = [];
  for (let i = 0; i < RUN_TIMED; i++) {
    wall.push(await timeCommand(bin));
    npxWall.push(await timeCommand(npx));
  }
  return {
    onnx_backend: onnx,
    seeding,
    cold_start: 'result' in cold ? cold.result : null,
    ...('error' in cold ? { cold_start_error: cold.error } : {}),
    run_command: {
      command: RUN_COMMAND,
      wall_ms: wall,
      median_ms: [...wall].sort((a, b) => a - b)[RUN_TIMED >> 1]!,
      npx_wall_ms: npxWall,
    },
  };
}
