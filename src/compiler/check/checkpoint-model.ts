import type { DiagnosticBag } from '../diagnostics.js';
import { BASE_ACTIVATIONS, type BaseModel } from '../model.js';
import type { BlockDeclaration, Property, SourceClause } from '../syntax/ast.js';
import type { ConfigFact } from './checkpoint/families.js';
import { readCheckpointConfig, type ReadFile } from './checkpoint/read-config.js';
import { formatBytes, MAX_WEIGHT_BYTES } from './limits.js';
import { collectProperties, readChoice, readPositive, readSize } from './properties.js';
import { baseParams, describeWeights } from './weight-memory.js';

/** A model read from a checkpoint takes the base model's properties, all optional, and `head`. */
export const CHECKPOINT_MODEL_PROPERTIES = [
  'hidden',
  'heads',
  'ffn',
  'layers',
  'activation',
  'norm',
  'eps',
  'attention',
  'head',
] as const;

type Written = Exclude<(typeof CHECKPOINT_MODEL_PROPERTIES)[number], 'head'>;

/** How each written property is read from the spec. */
const READERS: Readonly<
  Record<Written, (property: Property, bag: DiagnosticBag) => number | string | undefined>
> = {
  hidden: (p, bag) => readSize(p, bag, { row: true }),
  heads: (p, bag) => readSize(p, bag),
  ffn: (p, bag) => readSize(p, bag, { row: true }),
  layers: (p, bag) => readSize(p, bag, { max: Number.MAX_SAFE_INTEGER }),
  activation: (p, bag) => readChoice(p, BASE_ACTIVATIONS, bag),
  norm: (p, bag) => readChoice(p, ['post', 'pre'] as const, bag),
  eps: (p, bag) => readPositive(p, bag),
  attention: (p, bag) => readChoice(p, ['bidirectional', 'causal'] as const, bag),
};

/**
 * Checks `model NAME from "DIR" { ... }`: reads DIR/config.json through `readFile`, and requires
 * every property written in the block to agree with it; what is not written comes from there.
 * Returns the sizes it could learn even when the model has errors, so adapters are still checked.
 */
export function checkCheckpointModel(
  block: BlockDeclaration,
  from: SourceClause,
  readFile: ReadFile | undefined,
  bag: DiagnosticBag,
): { base: BaseModel | undefined; hidden?: number; layers?: number } {
  const errors = bag.errorCount;
  if (from.keyword.text !== 'from') {
    bag.report(
      'E0111',
      from.keyword.span,
      `expected 'from' before the checkpoint directory, found '${from.keyword.text}'`,
      `write: model ${block.name.text} from ${from.path.text}`,
    );
  }
  const properties = collectProperties(block, CHECKPOINT_MODEL_PROPERTIES, bag);
  const headProperty = properties.get('head');
  if (headProperty) readChoice(headProperty, ['none'] as const, bag);
  const written = new Map<Written, { property: Property; value: number | string }>();
  for (const name of Object.keys(READERS) as Written[]) {
    const property = properties.get(name);
    const value = property && READERS[name](property, bag);
    if (property && value !== undefined) written.set(name, { property, value });
  }
  if (from.path.malformed) return { base: undefined };
  if (from.path.value === '') {
    bag.report(
      'E0108',
      from.path.span,
      'the checkpoint directory is empty',
      `write its path, e.g. model ${block.name.text} from "./checkpoint"`,
    );
    return { base: undefined };
  }
  const config = readCheckpointConfig(from.path, readFile, headProperty === undefined, bag);
  if (!config) return { base: undefined };
  const known = { hidden: config.base.hidden.value, layers: config.base.layers.value };
  const facts = config.base;
  for (const [name, { property, value }] of written) {
    const fact: ConfigFact<number | string> = facts[name];
    if (fact.value === value) continue;
    bag.report(
      'E0118',
      property.values[0]?.span ?? property.span,
      `${name} ${value} does not match the checkpoint`,
      `${config.file} has ${fact.source}; write ${name} ${fact.value}, or leave ${name} out to take it from there`,
    );
  }
  const params = baseParams(facts.hidden.value, facts.ffn.value, facts.layers.value);
  if (params * 4 > MAX_WEIGHT_BYTES) {
    bag.report(
      'E0113',
      from.path.span,
      `the checkpoint's ${facts.layers.value} layers are ${describeWeights(params)}, more than the ${formatBytes(MAX_WEIGHT_BYTES)} limit`,
    );
  }
  if (bag.errorCount > errors) return { base: undefined, ...known };
  const base: BaseModel = {
    name: block.name.text,
    hidden: facts.hidden.value,
    heads: facts.heads.value,
    ffn: facts.ffn.value,
    layers: facts.layers.value,
    activation: facts.activation.value,
    norm: facts.norm.value,
    eps: facts.eps.value,
    attention: facts.attention.value,
    checkpoint: config.checkpoint,
    span: block.span,
  };
  return { base, ...known };
}
