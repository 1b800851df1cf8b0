/** PyTorch's training step on this machine's CPU (bench/training/torch_step.py), or why not. */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { repositoryRoot } from '../kernels/root.js';

export const TORCH_PYTHON = '/usr/bin/python3';
const SCRIPT = join(repositoryRoot(), 'bench/training/torch_step.py');

export interface TorchStep {
  readonly torch: string;
  readonly blas: string;
  readonly threads: number;
  readonly warmup: number;
  readonly rounds: number;
  readonly trainable: number;
  readonly step_ms: number;
  readonly forward_ms: number;
}

/** `installed: false` where python3 or its torch is missing; `error` for any other failure. */
export type TorchOutcome =
  | ({ readonly ok: true } & TorchStep)
  | { readonly ok: false; readonly installed: boolean; readonly error: string };

export interface TorchSettings {
  readonly batch: number;
  readonly seq: number;
  readonly threads: number;
  readonly warmup: number;
  readonly rounds: number;
}

export function runTorchStep(settings: TorchSettings): Promise<TorchOutcome> {
  const args = [
    SCRIPT,
    ...['--batch', String(settings.batch), '--seq', String(settings.seq)],
    ...['--threads', String(settings.threads)],
    ...['--warmup', String(settings.warmup), '--rounds', String(settings.rounds)],
  ];
  return new Promise((resolve) => {
    const child = spawn(TORCH_PYTHON, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', (error) =>
      resolve({ ok: false, installed: false, error: `${TORCH_PYTHON}: ${error.message}` }),
    );
    child.on('close', (code) => {
      if (code === 0) {
        const line = stdout.trim().split('\n').pop() ?? '';
        resolve({ ok: true, ...(JSON.parse(line) as TorchStep) });
        return;
      }
      const missing = /No module named '?torch'?/.test(stderr);
      const last = stderr.trim().split('\n').pop() ?? `exit ${code}`;
      resolve({ ok: false, installed: !missing, error: missing ? 'not installed' : last });
    });
  });
}
