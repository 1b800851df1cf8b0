/** The sizes of the load test's synthetic checkpoint, its adapters and heads. */
export interface FixtureShape {
  readonly hidden: number;
  readonly heads: number;
  readonly ffn: number;
  readonly layers: number;
  readonly maxPositions: number;
  /** seq_bn `reduction_factor`: the bottleneck is hidden / reductionFactor wide. */
  readonly reductionFactor: number;
  readonly labels: readonly string[];
}

/** BERT-base width with two layers: what the load test serves. */
export const BERT_BASE_TWO_LAYERS: FixtureShape = {
  hidden: 768,
  heads: 12,
  ffn: 3072,
  layers: 2,
  maxPositions: 512,
  reductionFactor: 16,
  labels: ['negative', 'neutral', 'positive'],
};

/** The same layout at the fixtures' sizes, for tests that only check the files. */
export const TINY: FixtureShape = {
  hidden: 32,
  heads: 2,
  ffn: 64,
  layers: 2,
  maxPositions: 64,
  reductionFactor: 8,
  labels: ['negative', 'neutral', 'positive'],
};

export const bottleneck = (shape: FixtureShape) =>
  Math.max(Math.floor(shape.hidden / shape.reductionFactor), 1);
