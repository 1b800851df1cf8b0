import type { DiagnosticBag } from '../../diagnostics.js';
import {
  ADAPTER_ACTIVATIONS,
  type AdapterActivation,
  type PredictionHeadSpec,
} from '../../model.js';
import type { Span } from '../../source.js';
import type { BlockDeclaration, Property } from '../../syntax/ast.js';
import { collectProperties, readChoice, readSize } from '../properties.js';
import { hubActivation, HUB_ACTIVATION_NAMES } from './hub-activation.js';

const HEAD_TYPES = ['classification', 'multilabel_classification', 'tagging'] as const;

/** The properties of `head NAME { … }`, named as the fields of `head_config.json`. */
const HEAD_PROPERTIES = ['type', 'labels', 'layers', 'activation', 'use_pooler', 'bias'] as const;

/** The properties only the classification types have (`ClassificationHead.__init__`). */
const CLASSIFICATION_ONLY = ['use_pooler', 'bias'] as const;

/** adaptc's activation names, the library's, and `none` (`activation_function` null). */
const HEAD_ACTIVATIONS = [
  ...new Set<string>([...ADAPTER_ACTIVATIONS, 'sigmoid', 'leaky_relu', ...HUB_ACTIVATION_NAMES]),
  'none',
];

/** `head_config.json`'s defaults that the head classes of `heads/base.py` give. */
export const INLINE_HEAD_DEFAULTS = { layers: 2, activation: 'tanh' } as const;

const BOOLEAN = ['true', 'false'] as const;

/**
 * `head NAME { type classification labels "negative", "positive" }`: an AdapterHub prediction head
 * declared with the fields `head_config.json` would hold (docs/language.md §3.5), to be seeded
 * or trained: `type` and `labels` required (E0123), `layers` (default 2), `activation` (default
 * tanh), and for the classification types `use_pooler` (false) and `bias` (true). Undefined
 * after an error.
 */
export function checkInlineHead(
  block: BlockDeclaration,
  bag: DiagnosticBag,
): PredictionHeadSpec | undefined {
  const properties = collectProperties(block, HEAD_PROPERTIES, bag);
  const errors = bag.errorCount;
  const head: Span = { start: block.keyword.span.start, end: block.name.span.end };
  const name = block.name.text;
  for (const required of ['type', 'labels'] as const) {
    if (properties.has(required)) continue;
    bag.report(
      'E0123',
      head,
      `head '${name}' has no '${required}'`,
      required === 'type'
        ? "write 'type classification', 'type multilabel_classification' or 'type tagging'"
        : 'write its label names in id order, e.g. labels "negative", "positive"',
    );
  }
  const typeProperty = properties.get('type');
  const type = typeProperty ? readChoice(typeProperty, HEAD_TYPES, bag) : undefined;
  if (type === 'tagging') {
    for (const key of CLASSIFICATION_ONLY) {
      const found = properties.get(key);
      if (!found) continue;
      bag.report(
        'E0123',
        found.name.span,
        `'${key}' is a property of classification heads; head '${name}' is a tagging head`,
        'a tagging head reads every token, with a bias on its last layer',
      );
    }
  }
  const labelsProperty = properties.get('labels');
  const labels = labelsProperty ? readLabels(labelsProperty, bag) : undefined;
  const layersProperty = properties.get('layers');
  const layers = layersProperty ? readSize(layersProperty, bag) : INLINE_HEAD_DEFAULTS.layers;
  const activationProperty = properties.get('activation');
  const activationName = activationProperty
    ? readChoice(activationProperty, HEAD_ACTIVATIONS, bag)
    : INLINE_HEAD_DEFAULTS.activation;
  const flag = (key: 'use_pooler' | 'bias', fallback: boolean): boolean => {
    const found = properties.get(key);
    return found ? readChoice(found, BOOLEAN, bag) === 'true' : fallback;
  };
  const usePooler = flag('use_pooler', false);
  const bias = flag('bias', true);
  if (bag.errorCount > errors || !type || !labels || !layers || !activationName) return undefined;
  return {
    name,
    type,
    layers,
    activation: headActivation(activationName),
    usePooler: type === 'tagging' ? false : usePooler,
    bias: type === 'tagging' ? true : bias,
    labels,
    span: block.span,
  };
}

function headActivation(name: string): AdapterActivation | 'none' {
  if (name === 'none') return 'none';
  const own = ADAPTER_ACTIVATIONS.find((a) => a === name);
  return own ?? (name === 'sigmoid' || name === 'leaky_relu' ? name : hubActivation(name)!);
}

/** `labels "a", "b", …`: strings, each once, in id order. */
function readLabels(property: Property, bag: DiagnosticBag): string[] | undefined {
  const labels: string[] = [];
  let ok = true;
  for (const value of property.values) {
    if (value.kind !== 'string') {
      bag.report(
        'E0108',
        value.span,
        `a label is a string, found ${value.kind === 'range' ? `range ${value.from.text}..${value.to.text}` : `'${value.text}'`}`,
        value.kind === 'word' ? `write "${value.text}"` : undefined,
      );
      ok = false;
    } else if (value.malformed) {
      ok = false;
    } else if (labels.includes(value.value)) {
      bag.report(
        'E0206',
        value.span,
        `label ${value.text} is listed twice`,
        'remove the repetition',
      );
      ok = false;
    } else labels.push(value.value);
  }
  return ok ? labels : undefined;
}
