import type { DiagnosticBag } from '../diagnostics.js';
import { BASE_ACTIVATIONS, type BaseModel } from '../model.js';
import { quoteList } from '../suggest.js';
import type { BlockDeclaration } from '../syntax/ast.js';
import { collectProperties, readChoice, readPositive, readSize } from './properties.js';

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
): { base: BaseModel | undefined; hidden?: number; layers?: number } {
  const properties = collectProperties(block, MODEL_PROPERTIES, bag);
  const missing = REQUIRED.filter((name) => !properties.has(name));
  if (missing.length > 0) {
    bag.report(
      'E0103',
      block.name.span,
      `model '${block.name.text}' is missing ${quoteList(missing).replace(' or ', ' and ')}`,
      `add ${missing.map((name) => `\`${name} N\``).join(', ')} to the model block`,
    );
  }
  const size = (name: (typeof REQUIRED)[number]) => {
    const property = properties.get(name);
    return property ? readSize(property, bag) : undefined;
  };
  const hidden = size('hidden');
  const heads = size('heads');
  const ffn = size('ffn');
  const layers = size('layers');
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
