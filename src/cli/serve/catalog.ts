import type { Program } from '../../runtime/program.js';
import type { LoadedModel } from '../../runtime/runtime.js';
import { HttpError, notFound } from './http-error.js';
import type { Route } from './requests.js';
import type { ServedHead } from './results.js';
import type { ProgramSlots } from './slot-weights.js';

/** One loaded program: a slot program that serves every adapter of one shape, or one graph. */
export interface Engine {
  readonly name: string;
  readonly program: Program;
  readonly model: LoadedModel;
  /** For a slot program: its slots, and which are free (lowest first). */
  readonly slots?: { readonly layout: ProgramSlots; readonly free: number[] };
}

/** What a request names: an adapter (in a slot, or with a program of its own) or a graph. */
export interface Target {
  readonly name: string;
  readonly kind: 'adapter' | 'graph';
  readonly engine: Engine;
  readonly slot?: number;
  /** How its logits read; undefined where its program ends in no classification head. */
  readonly head?: ServedHead;
  /** Why it has no head, for the 400 of a classify request. */
  readonly noHead?: string;
  /** Where it came from: the spec, or the directory it was added from. */
  readonly source: string;
  /** Sequences queued or running for it; a removed adapter's slot is freed at zero. */
  pending: number;
  removed: boolean;
}

/** Graphs that cannot be served as one request's route, and why. */
export interface Unserved {
  readonly name: string;
  readonly reason: string;
}

export class Catalog {
  readonly adapters = new Map<string, Target>();
  readonly graphs = new Map<string, Target>();
  readonly engines: Engine[] = [];
  readonly unserved: Unserved[] = [];

  resolve(route: Route): Target {
    const [kind, name] =
      'adapter' in route
        ? (['adapter', route.adapter] as const)
        : (['graph', route.graph] as const);
    const target = (kind === 'adapter' ? this.adapters : this.graphs).get(name);
    if (target) return target;
    const unserved = kind === 'graph' ? this.unserved.find((u) => u.name === name) : undefined;
    if (unserved) throw new HttpError(400, `graph '${name}' cannot be served: ${unserved.reason}`);
    const known = [...(kind === 'adapter' ? this.adapters : this.graphs).keys()];
    throw notFound(
      `no ${kind} '${name}'; the ${kind}s are ${known.length > 0 ? known.map((n) => `'${n}'`).join(', ') : 'none'}`,
    );
  }

  /** One sequence of `target` is done: frees a removed adapter's slot when it was the last. */
  release(target: Target): void {
    target.pending -= 1;
    if (target.removed && target.pending === 0) this.free(target);
  }

  /** Takes an adapter out: new requests get 404; what is queued for it still runs. */
  remove(name: string): Target {
    const target = this.adapters.get(name);
    if (!target) throw notFound(`no adapter '${name}'`);
    this.adapters.delete(name);
    for (const [graph, alias] of this.graphs) if (alias === target) this.graphs.delete(graph);
    target.removed = true;
    if (target.pending === 0) this.free(target);
    return target;
  }

  private free(target: Target): void {
    const slots = target.engine.slots;
    if (slots && target.slot !== undefined) {
      slots.free.push(target.slot);
      slots.free.sort((a, b) => a - b);
      return;
    }
    // An adapter with a program of its own: the program goes with it.
    const index = this.engines.indexOf(target.engine);
    const shared = [...this.adapters.values(), ...this.graphs.values()].some(
      (t) => t.engine === target.engine,
    );
    if (index >= 0 && !shared) {
      this.engines.splice(index, 1);
      target.engine.model.dispose();
    }
  }
}
