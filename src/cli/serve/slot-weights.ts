import type { Program } from '../../runtime/program.js';
import type { LoadedModel } from '../../runtime/runtime.js';
import type { Tensor, TensorMap } from '../../runtime/safetensors.js';
import { firstNonFinite } from '../../runtime/tensor.js';
import { CliError } from '../io.js';

export type ProgramSlots = NonNullable<Program['slots']>;

/** An adapter as a slot holds it: its name, scale, and where its tensors come from. */
export interface SlotMember {
  readonly name: string;
  readonly scale: number;
  /** Its tensors by name, with `from` naming the file for errors. */
  readonly find: TensorLookup;
}

export type TensorLookup = (name: string) => { tensor: Tensor; from: string } | undefined;

/** Model prefixes a weight file may put before the canonical names (docs/language.md §3.1). */
const PREFIXES = ['bert.', 'roberta.', 'distilbert.', 'transformer.'];

/** Looks tensors up by canonical name in weight files, with or without a model prefix. */
export function tensorLookup(files: readonly { tensors: TensorMap; file: string }[]): TensorLookup {
  const index = new Map<string, { tensor: Tensor; from: string }>();
  for (const { tensors, file } of files) {
    for (const [name, tensor] of tensors) {
      const prefix = PREFIXES.find((p) => name.startsWith(p));
      const canonical = prefix ? name.slice(prefix.length) : name;
      if (!index.has(canonical)) index.set(canonical, { tensor, from: file });
    }
  }
  return (name) => {
    const prefix = PREFIXES.find((p) => name.startsWith(p));
    return index.get(prefix ? name.slice(prefix.length) : name);
  };
}

const same = (a: readonly number[], b: readonly number[]) =>
  a.length === b.length && a.every((n, i) => n === b[i]);

/** Each stacked weight's share for one adapter: its tensor, checked, and its scale. */
export function slotData(slots: ProgramSlots, member: SlotMember): Map<string, Float32Array> {
  const data = new Map<string, Float32Array>();
  for (const weight of slots.weights) {
    const name = weight.perAdapter.replaceAll('{adapter}', member.name);
    const found = member.find(name);
    const shape = weight.shape.slice(1);
    if (!found)
      throw new CliError(`adapter '${member.name}': error: no tensor '${name}' in its weights`);
    const { tensor, from } = found;
    if (!(tensor.data instanceof Float32Array))
      throw new CliError(
        `${from}: error: tensor '${name}' is ${tensor.dtype}; adapter weights are floats`,
      );
    if (!same(tensor.shape, shape))
      throw new CliError(
        `${from}: error: tensor '${name}' is [${tensor.shape.join(', ')}]; the serving slots of '${slots.adapter}' hold [${shape.join(', ')}]`,
      );
    const bad = firstNonFinite(tensor.data);
    if (bad) throw new CliError(`${from}: error: tensor '${name}': ${bad}`);
    data.set(weight.name, tensor.data);
  }
  data.set(slots.scale, Float32Array.of(member.scale));
  return data;
}

/** The stacked weights with `members[i]` in slot `slotOf[i]` and zeros in the free slots. */
export function stackedWeights(
  slots: ProgramSlots,
  members: readonly { member: SlotMember; slot: number }[],
): TensorMap {
  const stacks: TensorMap = new Map();
  const shapes = new Map(slots.weights.map((w) => [w.name, w.shape]));
  shapes.set(slots.scale, [slots.count]);
  for (const [name, shape] of shapes) {
    const size = shape.slice(1).reduce((a, b) => a * b, 1);
    stacks.set(name, { dtype: 'F32', shape, data: new Float32Array(slots.count * size) });
  }
  for (const { member, slot } of members) {
    for (const [name, data] of slotData(slots, member))
      (stacks.get(name)!.data as Float32Array).set(data, slot * data.length);
  }
  return stacks;
}

/** Writes one adapter's share into slot `slot` of a loaded slot program. */
export async function writeSlot(
  model: LoadedModel,
  data: ReadonlyMap<string, Float32Array>,
  slot: number,
): Promise<void> {
  for (const [name, values] of data) await model.writeWeights(name, slot * values.length, values);
}
