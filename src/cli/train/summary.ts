import type { Program } from '../../runtime/program.js';
import type { TrainableSet } from '../../runtime/training/trainable.js';
import { formatTable, percent, thousands } from '../table.js';

export interface ParameterCounts {
  readonly total: number;
  readonly trainable: number;
  /** Of the trainable ones, the head's. */
  readonly head: number;
}

const sizeOf = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);

/** Every weight the program reads, and those trained: the article's table counts. */
export function parameterCounts(program: Program, trainable: TrainableSet): ParameterCounts {
  const trained = new Set(trainable.names);
  const head = new Set(trainable.head);
  let total = 0;
  let count = 0;
  let headCount = 0;
  for (const weight of program.weights) {
    const size = sizeOf(weight.shape);
    total += size;
    if (trained.has(weight.name)) count += size;
    if (head.has(weight.name)) headCount += size;
  }
  return { total, trainable: count, head: headCount };
}

/** The trainable-parameter table: total, frozen, trained (of which the head) and the share. */
export function renderParameterTable(counts: ParameterCounts, what: string): string {
  return formatTable(
    ['parameters', 'count', 'share'],
    [
      ['total', thousands(counts.total), '100%'],
      [
        'frozen',
        thousands(counts.total - counts.trainable),
        percent((100 * (counts.total - counts.trainable)) / counts.total),
      ],
      [
        `trained: ${what}`,
        thousands(counts.trainable - counts.head),
        percent((100 * (counts.trainable - counts.head)) / counts.total),
      ],
      ['trained: head', thousands(counts.head), percent((100 * counts.head) / counts.total)],
      ['trainable', thousands(counts.trainable), percent((100 * counts.trainable) / counts.total)],
    ],
  );
}
