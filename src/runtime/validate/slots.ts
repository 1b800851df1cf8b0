import { MAX_SLOTS, type ProgramNode, type ProgramSlots, type WeightSpec } from '../program.js';
import { inGroup } from '../ops/registry.js';
import {
  fail,
  field,
  readArray,
  readInteger,
  readObject,
  readShape,
  readString,
  sameShape,
  showShape,
} from './read.js';

/**
 * `program.slots`: the slot count equals the branch count, every stacked weight is in the
 * manifest with its shape and leading axis `count`, its per-adapter name holds `{adapter}`, and
 * the scale is a weight [count]. A slot op is allowed only in a slots program.
 */
export function readSlots(
  value: unknown,
  branches: number | undefined,
  weights: ReadonlyMap<string, WeightSpec>,
  nodes: readonly ProgramNode[],
): ProgramSlots | undefined {
  if (value === undefined) {
    const slotNode = nodes.find(
      (n) => n.op !== 'input' && n.op !== 'weight' && inGroup(n.op, 'slot'),
    );
    if (slotNode)
      fail(
        `program.nodes[${slotNode.id}].op`,
        `${slotNode.op} runs only in a program with 'slots'`,
      );
    return undefined;
  }
  const path = 'program.slots';
  const slots = readObject(value, path);
  const count = readInteger(field(slots, 'count'), `${path}.count`, 1, MAX_SLOTS);
  if (branches !== count)
    fail(`${path}.count`, `is ${count}; program.branches is ${String(branches)}`);
  const stacked = (name: string, at: string) => {
    const spec = weights.get(name);
    if (!spec) fail(at, `'${name}' is not in the weight manifest`);
    if (spec.shape[0] !== count)
      fail(at, `weight '${name}' is ${showShape(spec.shape)}; slot weights are [${count}, ...]`);
    return spec;
  };
  const names = new Set<string>();
  const slotWeights = readArray(field(slots, 'weights'), `${path}.weights`).map((entry, i) => {
    const at = `${path}.weights[${i}]`;
    const weight = readObject(entry, at);
    const name = readString(field(weight, 'name'), `${at}.name`);
    if (names.has(name)) fail(`${at}.name`, `'${name}' is listed twice`);
    names.add(name);
    const spec = stacked(name, `${at}.name`);
    const shape = readShape(field(weight, 'shape'), `${at}.shape`, false) as number[];
    if (!sameShape(shape, spec.shape))
      fail(`${at}.shape`, `is ${showShape(shape)}; weight '${name}' is ${showShape(spec.shape)}`);
    const perAdapter = readString(field(weight, 'perAdapter'), `${at}.perAdapter`);
    if (!perAdapter.includes('{adapter}')) fail(`${at}.perAdapter`, "must hold '{adapter}'");
    return { name, shape, perAdapter };
  });
  const scale = readString(field(slots, 'scale'), `${path}.scale`);
  const scaleSpec = stacked(scale, `${path}.scale`);
  if (scaleSpec.shape.length !== 1) fail(`${path}.scale`, `weight '${scale}' must be [${count}]`);
  return {
    count,
    adapter: readString(field(slots, 'adapter'), `${path}.adapter`),
    signature: readString(field(slots, 'signature'), `${path}.signature`),
    weights: slotWeights,
    scale,
  };
}
