import { isAbsolute, resolve } from 'node:path';
import { checkSource, slotSignature } from '../../compiler/index.js';
import { CliError } from '../io.js';
import type { Catalog, Target } from './catalog.js';
import type { ServeContext } from './context.js';
import { newTarget, servedHead } from './engines.js';
import { HttpError } from './http-error.js';
import type { AddAdapterRequest } from './requests.js';
import { slotMember } from './slot-member.js';
import { slotData, writeSlot } from './slot-weights.js';

/** A path as the spec's grammar can quote it: absolute, without quotes, backslashes or control characters. */
function quotable(cwd: string, path: string, key: string): string {
  const absolute = isAbsolute(path) ? path : resolve(cwd, path);
  if (/["\\\p{Cc}\u2028\u2029]/u.test(absolute))
    throw new HttpError(400, `'${key}' must not hold quotes, backslashes or control characters`);
  return absolute;
}

/** Turns a CliError from reading a directory into a 400 with its message. */
function asBadRequest(error: unknown): never {
  if (error instanceof CliError) throw new HttpError(400, error.message);
  throw error;
}

/**
 * `POST /v1/adapters`: reads an AdapterHub directory (and its head's) as `adapter NAME from
 * "DIR"` would, and writes its weights into a free slot of the slot program of its shape. The
 * base and every other adapter stay as they are: nothing is compiled or loaded again.
 */
export async function addAdapter(
  context: ServeContext,
  catalog: Catalog,
  adding: Set<string>,
  request: AddAdapterRequest,
): Promise<Target> {
  const { name } = request;
  const { model } = context;
  if (catalog.adapters.has(name) || adding.has(name))
    throw new HttpError(
      409,
      `the name '${name}' is taken; choose another or DELETE /v1/adapters/${name} first`,
    );
  const declared = model.adapters.has(name) || model.heads.has(name) || model.fusions.has(name);
  if (declared || model.graphs.has(name))
    throw new HttpError(409, `the spec declares '${name}'; add the adapter under another name`);
  const path = quotable(context.io.cwd, request.path, 'path');
  const head =
    request.head === undefined ? undefined : quotable(context.io.cwd, request.head, 'head');
  const adapterLine = `\nadapter ${name} from "${path}"\n`;
  const source = `${context.source}${adapterLine}${head ? `head ${name} from "${head}"\n` : ''}`;
  let checked;
  try {
    checked = checkSource(source, context.file, { readFile: context.readFile });
  } catch (error) {
    asBadRequest(error);
  }
  const problem = checked.diagnostics.find((d) => d.severity === 'error');
  if (problem || !checked.model) {
    // A problem in the declarations added here is the adapter's directory's, or its head's.
    const headStart = context.source.length + adapterLine.length;
    const at =
      problem?.file !== context.file
        ? (problem?.file ?? path)
        : head !== undefined && (problem.span?.start ?? 0) >= headStart
          ? head
          : path;
    throw new HttpError(400, `${at}: ${problem?.message ?? 'cannot be read'}`);
  }
  const added = checked.model;
  const signature = slotSignature(added, name);
  if ('reason' in signature)
    throw new HttpError(422, `adapter '${name}' cannot take a serving slot: ${signature.reason}`);
  const engine = catalog.engines.find((e) => e.slots?.layout.signature === signature.signature);
  if (!engine) {
    const shapes = catalog.engines.flatMap((e) => (e.slots ? [`'${e.slots.layout.adapter}'`] : []));
    throw new HttpError(
      422,
      `no slot program serves adapters of the shape of '${name}' (${shapes.length > 0 ? `the slots hold adapters shaped as ${shapes.join(', ')}` : 'the server has no slots'}); declare an adapter of this shape in the spec and restart`,
    );
  }
  const free = engine.slots!.free;
  if (free.length === 0)
    throw new HttpError(
      409,
      `every slot of ${engine.name} is taken (${engine.slots!.layout.count}); DELETE an adapter, or restart with --slots N`,
    );
  adding.add(name);
  const slot = free.shift()!;
  try {
    const data = slotData(engine.slots!.layout, slotMember(context, added, name));
    await writeSlot(engine.model, data, slot);
    const target = newTarget({
      name,
      kind: 'adapter',
      engine,
      slot,
      ...servedHead(engine.program, added, name),
      source: path,
    });
    catalog.adapters.set(name, target);
    return target;
  } catch (error) {
    free.unshift(slot);
    free.sort((a, b) => a - b);
    if (error instanceof CliError) throw new HttpError(400, error.message);
    throw error;
  } finally {
    adding.delete(name);
  }
}
