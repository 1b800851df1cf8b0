/**
 * The constructors REDUCE may apply, implemented here: `collections.OrderedDict()`,
 * `torch._utils._rebuild_tensor_v2(storage, storage_offset, size, stride, requires_grad,
 * backward_hooks[, metadata])` and `torch._utils._rebuild_parameter(data, requires_grad,
 * backward_hooks)` (pytorch/pytorch torch/_utils.py). A tensor is only described here; its
 * elements are gathered once its name is known (tensor.ts).
 */

import { PytorchCheckpointError } from './error.js';
import {
  PickleDict,
  PickleGlobal,
  PickleObject,
  PickleTuple,
  describe,
  type PickleValue,
} from './pickle.js';
import { STORAGE_TYPES, Storage } from './storage.js';

export class TensorView {
  constructor(
    readonly storage: Storage,
    readonly offset: number,
    readonly shape: readonly number[],
    readonly stride: readonly number[],
  ) {}
}

/** Every global a state dict may name, and what each is. */
export function stateDictGlobals(file: string): ReadonlyMap<string, PickleGlobal> {
  const fail = (what: string, message: string) =>
    new PytorchCheckpointError(file, `pickle: ${what}: ${message}`);
  const globals = new Map<string, PickleGlobal>();
  const add = (name: string, construct?: (args: readonly PickleValue[]) => PickleValue) =>
    globals.set(name, new PickleGlobal(name, construct));

  add('collections.OrderedDict', (args) => {
    if (args.length !== 0)
      throw fail('collections.OrderedDict', `called with ${args.length} arguments, not ()`);
    return new PickleDict();
  });
  add('torch._utils._rebuild_tensor_v2', (args) => {
    const what = 'torch._utils._rebuild_tensor_v2';
    if (args.length !== 6 && args.length !== 7)
      throw fail(what, `called with ${args.length} arguments, not 6 or 7`);
    const [storage, offset, size, stride, requiresGrad, hooks, metadata] = args;
    if (!(storage instanceof PickleObject) || !(storage.value instanceof Storage))
      throw fail(what, `storage is ${describe(storage!)}, not a storage`);
    if (!isCount(offset))
      throw fail(what, `storage_offset ${describe(offset!)} is not a non-negative integer`);
    const shape = counts(size!, 'size', (m) => fail(what, m));
    const strides = counts(stride!, 'stride', (m) => fail(what, m));
    if (strides.length !== shape.length)
      throw fail(what, `size has ${shape.length} dimensions but stride ${strides.length}`);
    if (typeof requiresGrad !== 'boolean')
      throw fail(what, `requires_grad is ${describe(requiresGrad!)}`);
    checkNoHooks(hooks!, (m) => fail(what, m));
    if (metadata !== undefined && !(metadata instanceof PickleDict && metadata.entries.size === 0))
      throw fail(what, `tensor metadata ${describe(metadata)} is not read`);
    return new PickleObject(new TensorView(storage.value, offset, shape, strides));
  });
  add('torch._utils._rebuild_parameter', (args) => {
    const what = 'torch._utils._rebuild_parameter';
    if (args.length !== 3) throw fail(what, `called with ${args.length} arguments, not 3`);
    const [data, requiresGrad, hooks] = args;
    if (!(data instanceof PickleObject) || !(data.value instanceof TensorView))
      throw fail(what, `data is ${describe(data!)}, not a tensor`);
    if (typeof requiresGrad !== 'boolean')
      throw fail(what, `requires_grad is ${describe(requiresGrad!)}`);
    checkNoHooks(hooks!, (m) => fail(what, m));
    return data;
  });
  for (const name of STORAGE_TYPES.keys()) add(name);
  return globals;
}

function isCount(value: PickleValue | undefined): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}

function counts(
  value: PickleValue,
  what: string,
  fail: (message: string) => PytorchCheckpointError,
): number[] {
  if (!(value instanceof PickleTuple)) throw fail(`${what} is ${describe(value)}, not a tuple`);
  return value.items.map((item, i) => {
    if (!isCount(item))
      throw fail(`${what}[${i}] is ${describe(item)}, not a non-negative integer`);
    return item;
  });
}

/** backward_hooks is always an empty OrderedDict in a saved state dict; hooks are code. */
function checkNoHooks(value: PickleValue, fail: (message: string) => PytorchCheckpointError): void {
  if (!(value instanceof PickleDict) || value.entries.size !== 0)
    throw fail(`backward_hooks is ${describe(value)}, not an empty OrderedDict`);
}
