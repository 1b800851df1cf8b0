import { graphHead, type Model } from '../../compiler/index.js';
import { readSavedDirectory } from '../saved-weights.js';
import type { ServeContext } from './context.js';
import { tensorLookup, type SlotMember } from './slot-weights.js';

/** An adapter of `model` as a slot member: its directory's weights (and its head's), then --weights. */
export function slotMember(context: ServeContext, model: Model, name: string): SlotMember {
  const adapter = model.adapters.get(name)!;
  const { cwd } = context.io;
  const files = [];
  if (adapter.source)
    files.push(readSavedDirectory(cwd, context.file, { kind: 'adapter', ...adapter.source, name }));
  const head = graphHead(model, { kind: 'adapter', name });
  if (head?.source)
    files.push(
      readSavedDirectory(cwd, context.file, { kind: 'head', ...head.source, name: head.name }),
    );
  return { name, scale: adapter.scale, find: tensorLookup([...files, ...context.given]) };
}
