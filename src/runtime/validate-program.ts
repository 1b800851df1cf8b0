import { ProgramError } from './errors.js';
import { PROGRAM_FORMAT, PROGRAM_VERSION, type Program } from './program.js';

/**
 * Checks that a value is a Program this runtime can run: the format and version, and that nodes
 * use known ops, refer only to earlier nodes, and that inputs, outputs and weights line up.
 */
export function validateProgram(value: unknown, knownOps: ReadonlySet<string>): Program {
  const fail = (why: string): never => {
    throw new ProgramError(`not a valid adaptc program: ${why}`);
  };
  if (typeof value !== 'object' || value === null) return fail('expected an object');
  const program = value as Partial<Program>;
  if (program.format !== PROGRAM_FORMAT) return fail(`format is ${JSON.stringify(program.format)}`);
  if (program.version !== PROGRAM_VERSION) {
    return fail(
      `version ${String(program.version)}; this runtime reads version ${PROGRAM_VERSION}`,
    );
  }
  if (!Array.isArray(program.nodes) || !Array.isArray(program.weights))
    return fail('nodes or weights missing');
  if (!Array.isArray(program.inputs) || !Array.isArray(program.outputs))
    return fail('inputs or outputs missing');
  const weightNames = new Set(program.weights.map((w) => w.name));
  program.nodes.forEach((node, index) => {
    if (node.id !== index) fail(`node ${index} has id ${node.id}`);
    if (node.op !== 'input' && node.op !== 'weight' && !knownOps.has(node.op)) {
      fail(`node ${index} uses unknown op '${node.op}'`);
    }
    if (!Array.isArray(node.inputs) || node.inputs.some((i: number) => !(i >= 0 && i < index))) {
      fail(`node ${index} reads a node that is not before it`);
    }
    if (node.op === 'weight' && !weightNames.has(node.attrs.name as string)) {
      fail(`node ${index} reads weight '${String(node.attrs.name)}', which the manifest lacks`);
    }
  });
  for (const io of [...program.inputs, ...program.outputs]) {
    if (!program.nodes[io.node]) fail(`'${io.name}' refers to missing node ${io.node}`);
  }
  if (!program.inputs.some((i) => i.name === 'hidden_states')) fail("no 'hidden_states' input");
  validateGpuPlan(program as Program);
  return program as Program;
}

/** Checks that a GPU plan refers only to kernels, buffers, uploads and weights that exist. */
export function validateGpuPlan(program: Program): void {
  const plan = program.gpu;
  if (!plan) return;
  const fail = (why: string): never => {
    throw new ProgramError(`not a valid adaptc program: GPU plan: ${why}`);
  };
  const weights = new Set(program.weights.map((w) => w.name));
  plan.uploads.forEach((upload, i) => {
    for (const part of upload.parts) {
      if (!weights.has(part.weight))
        fail(`weight buffer ${i} reads '${part.weight}', which the manifest lacks`);
    }
  });
  plan.dispatches.forEach((dispatch, i) => {
    const kernel = plan.kernels[dispatch.kernel];
    if (!kernel) return fail(`dispatch ${i} uses missing kernel ${dispatch.kernel}`);
    if (dispatch.args.length !== kernel.storageBindings) {
      fail(
        `dispatch ${i} binds ${dispatch.args.length} buffers; kernel '${kernel.name}' takes ${kernel.storageBindings}`,
      );
    }
    for (const arg of dispatch.args) {
      const ok =
        arg.kind === 'buffer' ? arg.buffer < plan.buffers.length : arg.upload < plan.uploads.length;
      if (!ok) fail(`dispatch ${i} binds a buffer that does not exist`);
    }
    if (!(dispatch.groups.divide > 0)) fail(`dispatch ${i} has a bad workgroup count`);
  });
  for (const io of [...plan.inputs, ...plan.outputs]) {
    if (io.buffer >= plan.buffers.length) fail(`'${io.name}' is in a buffer that does not exist`);
  }
}
