import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readCheckpoint } from '../src/cli/checkpoint-files.js';
import { readSavedWeights } from '../src/cli/saved-weights.js';
import { compile } from '../src/compiler/index.js';
import { normalArray } from '../src/runtime/random.js';
import { Runtime } from '../src/runtime/runtime.js';
import { loadSafetensors } from '../src/runtime/safetensors.js';
import type { Program } from '../src/runtime/program.js';
import { gpuIt, gpuRuntime } from './helpers/gpu.js';
import { relativeError } from './helpers/numerics.js';

/**
 * The query fold (W_Kᵀ·W_Q computed at load) on the fixtures: the article's fusions from the
 * PyTorch fixtures and AdapterHub's, compiled fused, on the CPU reference and on WebGPU, against
 * the unfused CPU reference and PyTorch's outputs.
 */
const TORCH = 'test/fixtures/torch';
const HUB = 'test/fixtures/adapterhub';
const TOLERANCE = 1e-4;

const count = (program: Program, op: string) => program.nodes.filter((n) => n.op === op).length;

function torchCase(name: string, fuse: boolean): Program {
  const fileName = join(TORCH, `${name}.adapt`);
  return compile(readFileSync(fileName, 'utf8'), { fileName, fuse, target: 'software' }).program!;
}

/** Fresh N(0, 1) hidden states, the last position of the second sequence padded. */
function hiddenInputs(hidden: number, seed: number) {
  const [batch, seq] = [2, 5];
  return {
    hidden_states: { data: normalArray(batch * seq * hidden, seed), shape: [batch, seq, hidden] },
    attention_mask: {
      data: Int32Array.from({ length: batch * seq }, (_, i) => (i === 2 * seq - 1 ? 0 : 1)),
      shape: [batch, seq],
    },
  };
}

function hubCase(name: string) {
  const path = join(HUB, 'specs', `${name}.adapt`);
  const compiled = compile(readFileSync(path, 'utf8'), {
    fileName: path,
    fuse: true,
    target: 'software',
    readFile: (file) => {
      const full = join(HUB, 'specs', file);
      return existsSync(full) ? readFileSync(full, 'utf8') : undefined;
    },
  });
  const model = compiled.model!;
  const checkpoint = readCheckpoint('.', path, model.base.checkpoint!.dir, { tokenizer: false });
  const weights = [
    checkpoint.weights.tensors,
    ...readSavedWeights('.', path, model, 'default').tensors,
  ];
  const expected = loadSafetensors(readFileSync(join(HUB, `${name}.expected.safetensors`)));
  const inputs = {
    input_ids: expected.get('input_ids')!,
    attention_mask: expected.get('attention_mask')!,
    token_type_ids: expected.get('token_type_ids')!,
  };
  return {
    program: compiled.program!,
    weights,
    inputs,
    expected: expected.get('last_hidden_state')!,
  };
}

const TORCH_FUSIONS = ['fusion_default', 'fusion_options', 'fusion_uncovered'];
const HUB_FUSIONS = ['fusion', 'static-fusion', 'custom-fusion'];

async function compareTorchFusions(runtime: Runtime): Promise<void> {
  const cpu = await Runtime.create({ backend: 'cpu' });
  try {
    for (const [i, name] of TORCH_FUSIONS.entries()) {
      const folded = torchCase(name, true);
      const weights = loadSafetensors(readFileSync(join(TORCH, `${name}.weights.safetensors`)));
      const inputs = hiddenInputs(folded.model.hidden, 90 + i);
      const out = await (await runtime.load(folded, weights)).run(inputs);
      const ref = await (await cpu.load(torchCase(name, false), weights)).run(inputs);
      expect(relativeError(out.hidden_states.data, ref.hidden_states.data), name).toBeLessThan(
        TOLERANCE,
      );
    }
  } finally {
    cpu.dispose();
  }
}

async function compareHubFusions(runtime: Runtime): Promise<void> {
  for (const name of HUB_FUSIONS) {
    const { program, weights, inputs, expected } = hubCase(name);
    const out = await (await runtime.load(program, weights)).run(inputs);
    const got = (out as Record<string, { data: Float32Array }>).last_hidden_state!.data;
    expect(relativeError(got, expected.data as Float32Array), name).toBeLessThan(TOLERANCE);
  }
}

describe('the query fold on the fusion fixtures', () => {
  it('folds every covered site of the article fusions and of AdapterHub query projections', () => {
    for (const name of TORCH_FUSIONS) {
      const folded = torchCase(name, true);
      const sites = count(folded, 'fusion_mix');
      expect(sites, name).toBeGreaterThan(0);
      // M = W_Kᵀ·W_Q and c = W_Kᵀ·b_Q per site, each computed once at load.
      expect(count(folded, 'weight_product'), name).toBe(2 * sites);
      expect(folded.gpu!.loadDispatches, name).toHaveLength(2 * sites);
    }
    for (const name of HUB_FUSIONS) {
      const { program } = hubCase(name);
      expect(count(program, 'weight_product'), name).toBe(2 * count(program, 'fusion_mix'));
    }
  });

  it('computes what the unfused graph does on the CPU reference', async () => {
    const runtime = await Runtime.create({ backend: 'cpu' });
    try {
      await compareTorchFusions(runtime);
    } finally {
      runtime.dispose();
    }
  });

  it("gives AdapterHub's PyTorch outputs on the CPU reference", async () => {
    const runtime = await Runtime.create({ backend: 'cpu' });
    try {
      await compareHubFusions(runtime);
    } finally {
      runtime.dispose();
    }
  });

  gpuIt('computes the same on WebGPU, M and c computed by load dispatches', async () => {
    const runtime = await gpuRuntime();
    try {
      await compareTorchFusions(runtime);
      await compareHubFusions(runtime);
    } finally {
      runtime.dispose();
    }
  });
});
