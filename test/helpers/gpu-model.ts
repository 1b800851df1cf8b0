import { expect } from 'vitest';
import { compile } from '../../src/compiler/index.js';
import type { RunInputs } from '../../src/runtime/inputs.js';
import type { Program } from '../../src/runtime/program.js';
import { Runtime } from '../../src/runtime/runtime.js';
import type { TensorMap } from '../../src/runtime/safetensors.js';
import { testWeights } from './gpu-cases.js';
import { gpuRuntime } from './gpu.js';

/** A small spec compiled per graph, its seeded weights, a shared WebGPU runtime and the reference. */
export interface GpuModelFixture {
  program(graph: string, fuse?: boolean): Program;
  readonly weights: TensorMap;
  /** The WebGPU runtime the tests share (tests that dispose or break a runtime make their own). */
  gpu(): Promise<Runtime>;
  /** The CPU runtime of the reference. */
  cpu(): Promise<Runtime>;
  /** The CPU reference's output for these inputs (unfused program, f64 sums). */
  reference(graph: string, inputs: RunInputs): Promise<Float32Array>;
  dispose(): Promise<void>;
}

export function gpuModelFixture(
  source: string,
  weightGraph: string,
  seed: number,
): GpuModelFixture {
  const program = (graph: string, fuse = true): Program => {
    const result = compile(source, { fileName: 'small.adapt', graph, fuse });
    expect(result.diagnostics).toEqual([]);
    return result.program!;
  };
  const weights = testWeights(program(weightGraph), seed);
  let cpu: Promise<Runtime> | undefined;
  let shared: Promise<Runtime> | undefined;
  const cpuRuntime = () => (cpu ??= Runtime.create({ backend: 'cpu' }));
  return {
    program,
    weights,
    gpu: () => (shared ??= gpuRuntime()),
    cpu: cpuRuntime,
    async reference(graph, inputs) {
      const model = await (await cpuRuntime()).load(program(graph, false), weights);
      try {
        return (await model.run(inputs)).hidden_states.data;
      } finally {
        model.dispose();
      }
    },
    async dispose() {
      if (cpu) (await cpu).dispose();
      if (shared) (await shared).dispose();
    },
  };
}
