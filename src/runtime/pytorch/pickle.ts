/**
 * A restricted pickle machine: only the opcodes a torch.save state dict uses (protocols 2 to 4),
 * and only globals the caller allows, each implemented in TypeScript. Nothing in the file is
 * ever executed; any other opcode or global is an error naming it.
 *
 * Opcode semantics follow CPython's Lib/pickle.py (class _Unpickler) and Lib/pickletools.py.
 */

import { PytorchCheckpointError } from './error.js';

export type PickleKey = string | number | boolean | null;

export type PickleValue =
  | null
  | boolean
  | number
  | string
  | PickleValue[]
  | PickleTuple
  | PickleDict
  | PickleGlobal
  | PickleObject;

export class PickleTuple {
  constructor(readonly items: readonly PickleValue[]) {}
}

export class PickleDict {
  readonly entries = new Map<PickleKey, PickleValue>();
  /** The state BUILD gave it (an OrderedDict's `__dict__`, such as a state dict's `_metadata`). */
  attributes: PickleDict | undefined;
}

/** An allowed global; `construct` is what REDUCE applies to it, when it may be called. */
export class PickleGlobal {
  constructor(
    readonly qualifiedName: string,
    readonly construct?: (args: readonly PickleValue[]) => PickleValue,
  ) {}
}

/** A value an allowed constructor built (a storage, a tensor). */
export class PickleObject {
  constructor(readonly value: unknown) {}
}

export interface UnpickleOptions {
  /** Named in every error. */
  file: string;
  /** "module.name" -> the global it stands for; any other global is refused. */
  globals: ReadonlyMap<string, PickleGlobal>;
  /** What BINPERSID turns a persistent id into. */
  persistentLoad: (pid: PickleValue) => PickleValue;
}

const MARK = Symbol('mark');
type StackItem = PickleValue | typeof MARK;

const OPCODE_NAMES: Record<number, string> = {
  0x80: 'PROTO',
  0x95: 'FRAME',
  0x7d: 'EMPTY_DICT',
  0x5d: 'EMPTY_LIST',
  0x29: 'EMPTY_TUPLE',
  0x28: 'MARK',
  0x58: 'BINUNICODE',
  0x8c: 'SHORT_BINUNICODE',
  0x4a: 'BININT',
  0x4b: 'BININT1',
  0x4d: 'BININT2',
  0x8a: 'LONG1',
  0x47: 'BINFLOAT',
  0x74: 'TUPLE',
  0x85: 'TUPLE1',
  0x86: 'TUPLE2',
  0x87: 'TUPLE3',
  0x73: 'SETITEM',
  0x75: 'SETITEMS',
  0x61: 'APPEND',
  0x65: 'APPENDS',
  0x71: 'BINPUT',
  0x72: 'LONG_BINPUT',
  0x68: 'BINGET',
  0x6a: 'LONG_BINGET',
  0x94: 'MEMOIZE',
  0x63: 'GLOBAL',
  0x93: 'STACK_GLOBAL',
  0x52: 'REDUCE',
  0x62: 'BUILD',
  0x88: 'NEWTRUE',
  0x89: 'NEWFALSE',
  0x4e: 'NONE',
  0x51: 'BINPERSID',
  0x2e: 'STOP',
};

const HIGHEST_PROTOCOL = 5;

/** Runs the pickle in `bytes` and returns the object STOP leaves. */
export function unpickle(bytes: Uint8Array, options: UnpickleOptions): PickleValue {
  return new Machine(bytes, options).run();
}

class Machine {
  private readonly view: DataView;
  private position = 0;
  private readonly stack: StackItem[] = [];
  private readonly memo = new Map<number, PickleValue>();

  constructor(
    private readonly bytes: Uint8Array,
    private readonly options: UnpickleOptions,
  ) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  private fail(message: string): PytorchCheckpointError {
    return new PytorchCheckpointError(this.options.file, `pickle: ${message}`);
  }

  run(): PickleValue {
    for (;;) {
      const at = this.position;
      const opcode = this.u8();
      const name = OPCODE_NAMES[opcode];
      if (name === undefined)
        throw this.fail(
          `opcode 0x${opcode.toString(16).padStart(2, '0')} ${describeOpcode(opcode)} at byte ${at} is not one a state dict uses; refused`,
        );
      if (name === 'STOP') {
        const result = this.pop(name);
        if (this.stack.length !== 0)
          throw this.fail(`STOP at byte ${at} leaves ${this.stack.length} more items on the stack`);
        if (this.position !== this.bytes.byteLength)
          throw this.fail(`${this.bytes.byteLength - this.position} bytes after STOP`);
        return result;
      }
      this.step(name, at);
    }
  }

  private step(name: string, at: number): void {
    switch (name) {
      case 'PROTO': {
        const protocol = this.u8();
        if (protocol > HIGHEST_PROTOCOL) throw this.fail(`unknown protocol ${protocol}`);
        return;
      }
      case 'FRAME':
        this.take(8);
        return;
      case 'EMPTY_DICT':
        return this.push(new PickleDict());
      case 'EMPTY_LIST':
        return this.push([]);
      case 'EMPTY_TUPLE':
        return this.push(new PickleTuple([]));
      case 'MARK':
        this.stack.push(MARK);
        return;
      case 'BINUNICODE':
        return this.push(this.utf8(this.u32()));
      case 'SHORT_BINUNICODE':
        return this.push(this.utf8(this.u8()));
      case 'BININT':
        this.push(this.view.getInt32(this.advance(4), true));
        return;
      case 'BININT1':
        return this.push(this.u8());
      case 'BININT2':
        this.push(this.view.getUint16(this.advance(2), true));
        return;
      case 'LONG1':
        return this.push(this.long(this.u8(), at));
      case 'BINFLOAT':
        this.push(this.view.getFloat64(this.advance(8), false));
        return;
      case 'TUPLE':
        return this.push(new PickleTuple(this.popToMark(name)));
      case 'TUPLE1':
      case 'TUPLE2':
      case 'TUPLE3': {
        const count = Number(name.slice(5));
        const items: PickleValue[] = [];
        for (let i = 0; i < count; i++) items.unshift(this.pop(name));
        return this.push(new PickleTuple(items));
      }
      case 'SETITEM': {
        const value = this.pop(name);
        const key = this.pop(name);
        return this.setItems(this.peek(name), [key, value], name);
      }
      case 'SETITEMS': {
        const items = this.popToMark(name);
        return this.setItems(this.peek(name), items, name);
      }
      case 'APPEND': {
        const value = this.pop(name);
        return this.append(this.peek(name), [value], name);
      }
      case 'APPENDS': {
        const items = this.popToMark(name);
        return this.append(this.peek(name), items, name);
      }
      case 'BINPUT':
        return this.put(this.u8());
      case 'LONG_BINPUT':
        return this.put(this.u32());
      case 'MEMOIZE':
        return this.put(this.memo.size);
      case 'BINGET':
        return this.get(this.u8());
      case 'LONG_BINGET':
        return this.get(this.u32());
      case 'GLOBAL': {
        const module = this.line();
        return this.push(this.findGlobal(module, this.line()));
      }
      case 'STACK_GLOBAL': {
        const globalName = this.pop(name);
        const module = this.pop(name);
        if (typeof module !== 'string' || typeof globalName !== 'string')
          throw this.fail(`STACK_GLOBAL at byte ${at} needs two strings`);
        return this.push(this.findGlobal(module, globalName));
      }
      case 'REDUCE': {
        const args = this.pop(name);
        const callable = this.pop(name);
        return this.push(this.reduce(callable, args, at));
      }
      case 'BUILD': {
        const state = this.pop(name);
        return this.build(this.peek(name), state, at);
      }
      case 'NEWTRUE':
        return this.push(true);
      case 'NEWFALSE':
        return this.push(false);
      case 'NONE':
        return this.push(null);
      case 'BINPERSID':
        return this.push(this.options.persistentLoad(this.pop(name)));
    }
  }

  private findGlobal(module: string, name: string): PickleGlobal {
    const qualifiedName = `${module}.${name}`;
    const found = this.options.globals.get(qualifiedName);
    if (found === undefined)
      throw this.fail(
        `global '${qualifiedName}' is not allowed; a state dict refers only to ${[...this.options.globals.keys()].join(', ')} (nothing in the file is executed)`,
      );
    return found;
  }

  private reduce(callable: PickleValue, args: PickleValue, at: number): PickleValue {
    if (!(callable instanceof PickleGlobal) || callable.construct === undefined)
      throw this.fail(`REDUCE at byte ${at} applies ${describe(callable)}, which cannot be called`);
    if (!(args instanceof PickleTuple))
      throw this.fail(`REDUCE at byte ${at} needs a tuple of arguments, got ${describe(args)}`);
    return callable.construct(args.items);
  }

  private build(target: PickleValue, state: PickleValue, at: number): void {
    if (!(target instanceof PickleDict) || !(state instanceof PickleDict) || target.attributes)
      throw this.fail(
        `BUILD at byte ${at} sets the state of ${describe(target)} to ${describe(state)}; only a dict's attributes may be set, once`,
      );
    target.attributes = state;
  }

  private setItems(target: StackItem, items: readonly PickleValue[], name: string): void {
    if (!(target instanceof PickleDict))
      throw this.fail(`${name} on ${describe(target)}, not a dict`);
    if (items.length % 2 !== 0) throw this.fail(`${name} with an odd number of items`);
    for (let i = 0; i < items.length; i += 2) {
      const key = items[i]!;
      if (!isKey(key)) throw this.fail(`${name} with a key that is ${describe(key)}`);
      target.entries.set(key, items[i + 1]!);
    }
  }

  private append(target: StackItem, items: readonly PickleValue[], name: string): void {
    if (!Array.isArray(target)) throw this.fail(`${name} on ${describe(target)}, not a list`);
    target.push(...items);
  }

  private put(index: number): void {
    this.memo.set(index, this.peek('a memo put'));
  }

  private get(index: number): void {
    const value = this.memo.get(index);
    if (value === undefined) throw this.fail(`memo index ${index} was never stored`);
    this.push(value);
  }

  private push(value: PickleValue): void {
    this.stack.push(value);
  }

  private pop(name: string): PickleValue {
    const value = this.stack.pop();
    if (value === undefined) throw this.fail(`${name} on an empty stack`);
    if (value === MARK) throw this.fail(`${name} found a MARK where it needs a value`);
    return value;
  }

  private peek(name: string): PickleValue {
    const value = this.stack[this.stack.length - 1];
    if (value === undefined) throw this.fail(`${name} on an empty stack`);
    if (value === MARK) throw this.fail(`${name} found a MARK where it needs a value`);
    return value;
  }

  private popToMark(name: string): PickleValue[] {
    const mark = this.stack.lastIndexOf(MARK);
    if (mark < 0) throw this.fail(`${name} without a MARK`);
    const items = this.stack.splice(mark) as PickleValue[];
    items.shift();
    return items;
  }

  /** LONG1: a little-endian two's-complement integer of `length` bytes; must be exact as a number. */
  private long(length: number, at: number): number {
    const raw = this.take(length);
    let value = 0n;
    for (let i = length - 1; i >= 0; i--) value = (value << 8n) | BigInt(raw[i]!);
    if (length > 0 && raw[length - 1]! & 0x80) value -= 1n << BigInt(8 * length);
    if (value > BigInt(Number.MAX_SAFE_INTEGER) || value < BigInt(Number.MIN_SAFE_INTEGER))
      throw this.fail(
        `LONG1 at byte ${at}: integer ${value} is past 2^53, too large for a state dict`,
      );
    return Number(value);
  }

  private line(): string {
    const end = this.bytes.indexOf(0x0a, this.position);
    if (end < 0) throw this.fail('GLOBAL name runs past the end of the pickle');
    const text = this.utf8(end - this.position);
    this.position = end + 1;
    return text;
  }

  private utf8(length: number): string {
    const raw = this.take(length);
    try {
      return new TextDecoder('utf-8', { fatal: true }).decode(raw);
    } catch {
      throw this.fail(`string at byte ${this.position - length} is not valid UTF-8`);
    }
  }

  private u8(): number {
    return this.view.getUint8(this.advance(1));
  }

  private u32(): number {
    return this.view.getUint32(this.advance(4), true);
  }

  private take(length: number): Uint8Array {
    const start = this.advance(length);
    return this.bytes.subarray(start, start + length);
  }

  private advance(length: number): number {
    const start = this.position;
    if (start + length > this.bytes.byteLength)
      throw this.fail(
        `truncated: ${length} bytes needed at byte ${start}, the pickle is ${this.bytes.byteLength}`,
      );
    this.position += length;
    return start;
  }
}

function isKey(value: PickleValue): value is PickleKey {
  return value === null || ['string', 'number', 'boolean'].includes(typeof value);
}

function describeOpcode(opcode: number): string {
  return opcode >= 0x20 && opcode < 0x7f ? `('${String.fromCharCode(opcode)}')` : '';
}

export function describe(value: PickleValue | typeof MARK): string {
  if (value === MARK) return 'a MARK';
  if (value === null) return 'None';
  if (Array.isArray(value)) return 'a list';
  if (value instanceof PickleTuple) return `a ${value.items.length}-tuple`;
  if (value instanceof PickleDict) return 'a dict';
  if (value instanceof PickleGlobal) return `the global '${value.qualifiedName}'`;
  if (value instanceof PickleObject) return 'an object';
  return `the ${typeof value} ${JSON.stringify(value)}`;
}
