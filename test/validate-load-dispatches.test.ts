import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { compile } from '../src/compiler/index.js';
import { ProgramError } from '../src/runtime/errors.js';
import { validateProgram } from '../src/runtime/validate-program.js';

/** A fused fusion program as plain JSON, which a test may change before validating it. */
type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

function fusionProgram(): Json {
  const fileName = 'test/fixtures/torch/fusion_default.adapt';
  const program = compile(readFileSync(fileName, 'utf8'), { fileName }).program!;
  return JSON.parse(JSON.stringify(program)) as Json;
}

function rejects(change: (program: Json) => void, message: RegExp): void {
  const program = fusionProgram();
  change(program);
  expect(() => validateProgram(program)).toThrow(ProgramError);
  expect(() => validateProgram(program)).toThrow(message);
}

const loadNode = (program: Json): number =>
  (program.nodes as Json[]).find((node) => node.op === 'weight_product')!.id as number;

describe("the validator on a plan's load-time dispatches", () => {
  it('keeps the load dispatches and the computed uploads of a compiled program', () => {
    const program = fusionProgram();
    const valid = validateProgram(program);
    expect(valid.gpu!.loadDispatches).toEqual(program.gpu.loadDispatches);
    expect(valid.gpu!.uploads).toEqual(program.gpu.uploads);
    expect(valid.gpu!.loadDispatches!.length).toBeGreaterThan(0);
  });

  it('refuses a computed upload that no load dispatch writes', () => {
    rejects((p) => delete p.gpu.loadDispatches, /computed at load, but no load dispatch writes it/);
  });

  it('refuses an upload with both parts and a size', () => {
    rejects((p) => {
      const upload = (p.gpu.uploads as Json[]).find((u) => u.parts.length > 0)!;
      upload.elements = 4;
    }, /is only for a buffer computed at load/);
  });

  it('refuses an empty upload without a size', () => {
    rejects((p) => {
      const upload = (p.gpu.uploads as Json[]).find((u) => u.elements !== undefined)!;
      delete upload.elements;
    }, /must not be empty, but for a buffer computed at load/);
  });

  it('refuses a load dispatch that binds an activation buffer', () => {
    rejects((p) => {
      p.gpu.loadDispatches[0].args[0] = { kind: 'buffer', buffer: 0 };
    }, /must be 'weights' in a load dispatch/);
  });

  it('refuses a load dispatch that writes weights as stored, or writes a buffer twice', () => {
    rejects((p) => {
      const stored = (p.gpu.uploads as Json[]).findIndex((u) => u.parts.length > 0);
      p.gpu.loadDispatches[0].args.at(-1).upload = stored;
    }, /is not computed at load/);
    rejects((p) => {
      p.gpu.loadDispatches[1].args.at(-1).upload = p.gpu.loadDispatches[0].args.at(-1).upload;
    }, /is written twice|holds \d+ elements/);
  });

  it('refuses a load dispatch whose workgroups scale with the run', () => {
    rejects((p) => {
      p.gpu.loadDispatches[0].groups.perToken = 1;
    }, /must be a fixed count/);
  });

  it('refuses a forward dispatch of a load-time node, and a load dispatch of another node', () => {
    rejects((p) => {
      p.gpu.dispatches[0].node = loadNode(p);
    }, /is computed at load, by a load dispatch/);
    rejects((p) => {
      p.gpu.loadDispatches[0].node = p.gpu.dispatches[0].node;
    }, /is computed in the forward pass, not at load/);
  });

  it('refuses a load-time node that reads a value computed per pass', () => {
    rejects((p) => {
      const node = (p.nodes as Json[])[loadNode(p)]!;
      node.inputs[1] = 0;
    }, /is computed at load, from weights only/);
  });
});
