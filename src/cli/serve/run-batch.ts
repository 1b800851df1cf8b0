import { AdaptError } from '../../runtime/errors.js';
import { batchInputs, type EncodedText } from './batch-inputs.js';
import type { Engine, Target } from './catalog.js';
import { HttpError } from './http-error.js';
import { textResult, type TextResult } from './results.js';

/** One text of a request, waiting for its batch. */
export interface SequenceItem {
  readonly key: string;
  readonly target: Target;
  readonly text: EncodedText;
  resolve(result: TextResult): void;
  reject(error: HttpError): void;
}

const isDeviceTrouble = (message: string) => /device was lost|did not finish within/.test(message);

/** What a failed forward pass tells the requests in it: 503 for a device problem, else 500. */
export function runFailure(error: unknown): HttpError {
  const message = error instanceof Error ? error.message : String(error);
  if (error instanceof AdaptError && isDeviceTrouble(message))
    return new HttpError(503, `the GPU failed during the batch (${message}); retry`, {
      'Retry-After': '1',
    });
  return new HttpError(500, `the forward pass failed: ${message}`);
}

/** Runs one engine on the texts of `items` (one batch, padded to the longest). */
export async function runItems(
  engine: Engine,
  items: readonly SequenceItem[],
): Promise<TextResult[]> {
  const { inputs, seq } = batchInputs(
    engine.program,
    items.map((item) => item.text),
  );
  const slotted = engine.slots
    ? {
        adapter_index: {
          data: Int32Array.from(items, (item) => item.target.slot!),
          shape: [items.length],
        },
      }
    : {};
  const outputs = await engine.model.run({ ...inputs, ...slotted });
  const logits = outputs.logits;
  if (!logits) throw new HttpError(500, "the forward pass returned no 'logits'");
  return items.map((item, b) => textResult(item.target.head!, item.text, logits.data, b, seq));
}

/**
 * Runs a batch and settles every item. Where the batch fails for a reason other than the
 * device, each item runs again alone, so that one sequence that cannot run fails by itself and
 * never the batch it joined. Resolves to the number of forward passes run.
 */
export async function settleBatch(items: readonly SequenceItem[]): Promise<number> {
  const engine = items[0]!.target.engine;
  try {
    const results = await runItems(engine, items);
    items.forEach((item, i) => item.resolve(results[i]!));
    return 1;
  } catch (error) {
    const failure = error instanceof HttpError ? error : runFailure(error);
    if (items.length === 1 || failure.status === 503) {
      for (const item of items) item.reject(failure);
      return 1;
    }
  }
  for (const item of items) {
    try {
      item.resolve((await runItems(engine, [item]))[0]!);
    } catch (error) {
      item.reject(error instanceof HttpError ? error : runFailure(error));
    }
  }
  return 1 + items.length;
}
