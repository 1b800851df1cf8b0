import type { DiagnosticBag } from '../diagnostics.js';
import { BASE_ACTIVATIONS, type BaseModel } from '../model.js';
import { quoteList } from '../suggest.js';
import type { BlockDeclaration, Property } from '../syntax/ast.js';
import { formatBytes, MAX_LAYERS, MAX_WEIGHT_BYTES } from './limits.js';
import { collectProperties, readChoice, readPositive, readSize } from './properties.js';
import { baseParams, describeWeights } from './weight-memory.js';
import { checkCheckpointModel } from './checkpoint-model.js';
import type { ReadFile } from './checkpoint/read-config.js';

const MODEL_PROPERTIES = [
  'hidden',
  'heads',
  'ffn',
  'layers',
  'activation',
  'norm',
  'eps',
  'attention',
] as const;
const REQUIRED = ['hidden', 'heads', 'ffn', 'layers'] as const;

export const MODEL_DEFAULTS = {
  activation: 'gelu',
  norm: 'post',
  eps: 1e-12,
  attention: 'bidirectional',
} as const;

/**
 * Checks the `model` block. Returns undefined if a required size is missing or invalid; the
 * sizes that could be read are returned separately so later checks still run where they can.
 */
export function checkBaseModel(
  block: BlockDeclaration,
  bag: DiagnosticBag,
  readFile?: ReadFile,
): { base: BaseModel | undefined; hidden?: number; layers?: number } {
  if (block.from) return checkCheckpointModel(block, block.from, readFile, bag);
  const properties = collectProperties(withoutHead(block, bag), MODEL_PROPERTIES, bag);
  const missing = REQUIRED.filter((name) => !properties.has(name));
  if (missing.length > 0) {
    bag.report(
      'E0103',
      block.name.span,
      `model '${block.name.text}' is missing ${quoteList(missing).replace(' or ', ' and ')}`,
      `add ${missing.map((name) => `\`${name} N\``).join(', ')} to the model block`,
    );
  }
  const size = (name: (typeof REQUIRED)[number], options: Parameters<typeof readSize>[2]) => {
    const property = properties.get(name);
    return property ? readSize(property, bag, options) : undefined;
  };
  const hidden = size('hidden', { row: true });
  const heads = size('heads', {});
  const ffn = size('ffn', { row: true });
  const layers = checkModelSize(
    properties.get('layers'),
    { hidden, ffn, layers: size('layers', { max: Number.MAX_SAFE_INTEGER }) },
    bag,
  );
  if (hidden !== undefined && heads !== undefined && hidden % heads !== 0) {
    const headsProperty = properties.get('heads')!;
    bag.report(
      'E0104',
      headsProperty.values[0]?.span ?? headsProperty.span,
      `heads (${heads}) must divide hidden (${hidden})`,
      `hidden ${hidden} can be split into ${divisorsNear(hidden, heads)} heads`,
    );
  }

  const choice = <T extends string>(name: string, choices: readonly T[], fallback: T) => {
    const property = properties.get(name);
    return property ? readChoice(property, choices, bag) : fallback;
  };
  const activation = choice('activation', BASE_ACTIVATIONS, MODEL_DEFAULTS.activation);
  const norm = choice('norm', ['post', 'pre'] as const, MODEL_DEFAULTS.norm);
  const attention = choice(
    'attention',
    ['bidirectional', 'causal'] as const,
    MODEL_DEFAULTS.attention,
  );
  const epsProperty = properties.get('eps');
  const eps = epsProperty ? readPositive(epsProperty, bag) : MODEL_DEFAULTS.eps;

  const complete =
    hidden !== undefined &&
    heads !== undefined &&
    hidden % heads === 0 &&
    ffn !== undefined &&
    layers !== undefined &&
    activation !== undefined &&
    norm !== undefined &&
    attention !== undefined &&
    eps !== undefined;
  const known = {
    ...(hidden !== undefined ? { hidden } : {}),
    ...(layers !== undefined ? { layers } : {}),
  };
  if (!complete) return { base: undefined, ...known };
  const base: BaseModel = {
    name: block.name.text,
    hidden,
    heads,
    ffn,
    layers,
    activation,
    norm,
    eps,
    attention,
    span: block.span,
  };
  return { base, ...known };
}

/** The block without `head`, reported: it belongs to a model read from a checkpoint. */
function withoutHead(block: BlockDeclaration, bag: DiagnosticBag): BlockDeclaration {
  const head = block.properties.filter((p) => p.name.text === 'head');
  for (const property of head) {
    bag.report(
      'E0106',
      property.name.span,
      `'head' applies to a model read from a checkpoint, not to '${block.name.text}'`,
      `write model ${block.name.text} from "DIR" { head none } to drop a checkpoint's head; this model's properties are ${quoteList(MODEL_PROPERTIES)}`,
    );
  }
  return head.length === 0
    ? block
    : { ...block, properties: block.properties.filter((p) => p.name.text !== 'head') };
}

/**
 * The layer count, or undefined after reporting that the base model's weights cannot exist (more
 * than MAX_WEIGHT_BYTES of f32) or that it has more than MAX_LAYERS layers.
 */
function checkModelSize(
  property: Property | undefined,
  sizes: { hidden: number | undefined; ffn: number | undefined; layers: number | undefined },
  bag: DiagnosticBag,
): number | undefined {
  const { hidden, ffn, layers } = sizes;
  if (!property || layers === undefined) return undefined;
  const span = property.values[0]?.span ?? property.span;
  if (hidden !== undefined && ffn !== undefined) {
    const params = baseParams(hidden, ffn, layers);
    if (params * 4 > MAX_WEIGHT_BYTES) {
      const fitting = Math.floor(MAX_WEIGHT_BYTES / 4 / baseParams(hidden, ffn, 1));
      bag.report(
        'E0113',
        span,
        `${layers} ${layers === 1 ? 'layer' : 'layers'} of width ${hidden} (ffn ${ffn}) ${layers === 1 ? 'is' : 'are'} ${describeWeights(params)}, more than the ${formatBytes(MAX_WEIGHT_BYTES)} limit`,
        fitting >= 1
          ? `at this width at most ${fitting} ${fitting === 1 ? 'layer fits' : 'layers fit'}`
          : `at this width not even one layer fits; make hidden or ffn smaller`,
      );
      return undefined;
    }
  }
  if (layers > MAX_LAYERS) {
    bag.report(
      'E0105',
      span,
      `'layers' must be a positive integer up to ${MAX_LAYERS}, found ${layers}`,
    );
    return undefined;
  }
  return layers;
}

/** Head counts near the requested one that do divide hidden, for the help line. */
function divisorsNear(hidden: number, heads: number): string {
  const divisors: number[] = [];
  for (let candidate = 1; candidate <= Math.min(hidden, 256); candidate++) {
    if (hidden % candidate === 0) divisors.push(candidate);
  }
  divisors.sort((a, b) => Math.abs(a - heads) - Math.abs(b - heads) || a - b);
  return quoteList(
    divisors
      .slice(0, 3)
      .sort((a, b) => a - b)
      .map(String),
  ).replace(/'/g, '');
}
