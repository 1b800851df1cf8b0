import { readFileSync } from 'node:fs';
import { request } from 'node:http';
import { connect } from 'node:net';
import { compile } from '../../src/compiler/index.js';
import { startServing, type Serving } from '../../src/cli/commands/serve.js';
import { readCheckpoint } from '../../src/cli/checkpoint-files.js';
import { specFileReader } from '../../src/cli/load-model.js';
import { readSavedWeights } from '../../src/cli/saved-weights.js';
import { SERVE_DEFAULTS, type ServeOptions } from '../../src/cli/serve/options.js';
import { maxTokens } from '../../src/runtime/inputs.js';
import { Runtime } from '../../src/runtime/runtime.js';
import type { TensorMap } from '../../src/runtime/safetensors.js';
import { textInputs } from '../../src/runtime/text/classify.js';
import { repoRoot } from '../helpers/cli.js';

/** Sentences of different lengths, so that batches pad. */
export const SENTENCES = [
  'the movie was great',
  'hello world',
  'a long and winding sentence about nothing in particular at all',
  'bad',
  'the quick brown fox jumps over the lazy dog',
  'what a wonderful day it has been for everyone here',
  'no',
  'this is fine',
];

export interface Reply {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly text: string;
  readonly json: () => unknown;
}

/** One HTTP request to the server, body sent as given (a string) or as JSON. */
export function call(
  url: string,
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<Reply> {
  const payload =
    body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = request(`${url}${path}`, {
      method,
      headers: {
        ...(payload === undefined ? {} : { 'Content-Type': 'application/json' }),
        ...headers,
      },
    });
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        resolve({
          status: res.statusCode ?? 0,
          headers: res.headers,
          text,
          json: () => JSON.parse(text) as unknown,
        });
      });
    });
    req.on('error', reject);
    if (payload !== undefined) req.write(payload);
    req.end();
  });
}

export const classify = (url: string, adapter: string, texts: string[]) =>
  call(url, 'POST', '/v1/classify', { adapter, texts });

export interface ServerLog {
  stdout: string;
  stderr: string;
}

/** Starts the server in this process on a free port of 127.0.0.1. */
export async function serve(
  spec: string,
  options: Partial<ServeOptions> = {},
  log: ServerLog = { stdout: '', stderr: '' },
): Promise<Serving> {
  return startServing(
    {
      stdout: (t) => (log.stdout += t),
      stderr: (t) => (log.stderr += t),
      color: false,
      cwd: repoRoot,
    },
    spec,
    { ...SERVE_DEFAULTS, port: 0, batching: 'mixed', backend: 'webgpu', weights: [], ...options },
  );
}

/**
 * The logits of each text run alone (batch 1) through the CPU reference of the graph
 * `expression` (an adapter's name, or any composition), with the weights `adapt run` would bind
 * and `extra` weight files.
 */
export async function referenceLogits(
  spec: string,
  expression: string,
  texts: readonly string[],
  extra: readonly TensorMap[] = [],
): Promise<Float32Array[]> {
  const graph = 'reference_graph';
  const source = `${readFileSync(spec, 'utf8')}\ngraph ${graph} = ${expression}\n`;
  const readFile = specFileReader(repoRoot, spec);
  const { program, model } = compile(source, { fileName: spec, readFile, graph, gpu: false });
  const checkpoint = readCheckpoint(repoRoot, spec, model!.base.checkpoint!.dir, {
    tokenizer: true,
  });
  const saved = readSavedWeights(repoRoot, spec, model!, graph);
  const runtime = await Runtime.create({ backend: 'cpu' });
  try {
    const loaded = await runtime.load(program!, [
      checkpoint.weights.tensors,
      ...saved.tensors,
      ...extra,
    ]);
    const out: Float32Array[] = [];
    for (const text of texts) {
      const encoded = checkpoint.tokenizer!.encodeBatch([text], {
        maxLength: maxTokens(program!.model.text!),
      });
      out.push((await loaded.run(textInputs(program!, encoded))).logits!.data);
    }
    return out;
  } finally {
    runtime.dispose();
  }
}

/** The largest |a − b| / max(1, |b|) over two logit vectors. */
export function logitError(got: readonly number[], expected: Float32Array): number {
  if (got.length !== expected.length) return Infinity;
  return Math.max(
    ...got.map((g, i) => Math.abs(g - expected[i]!) / Math.max(1, Math.abs(expected[i]!))),
  );
}

/** Writes raw bytes to the server and resolves with what comes back until it closes (or `ms`). */
export function rawExchange(url: string, bytes: string, ms = 2000): Promise<string> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname);
    let received = '';
    const timer = setTimeout(() => socket.destroy(), ms);
    socket.on('data', (chunk: Buffer) => (received += chunk.toString('latin1')));
    socket.on('close', () => {
      clearTimeout(timer);
      resolve(received);
    });
    socket.on('error', reject);
    socket.write(bytes, 'latin1');
  });
}
