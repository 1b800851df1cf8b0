import type { DiagnosticBag } from '../../diagnostics.js';
import { ARTICLE_FIELDS, type AdapterSpec, type BottleneckFields } from '../../model.js';
import type { Property } from '../../syntax/ast.js';
import { readChoice } from '../properties.js';
import { parseConfigString } from './bottleneck-config.js';
import { hubAdapterParts, type HubAdapterParts } from './hub-adapter.js';

/** The AdapterHub presets an inline adapter may start from (`adapter_config.py`). */
export const ADAPTER_PRESETS = [
  'seq_bn',
  'pfeiffer',
  'double_seq_bn',
  'houlsby',
  'par_bn',
  'parallel',
  'scaled_par_bn',
] as const;

/** The BnConfig fields an inline adapter may write (docs/language.md §3.2.1). */
const FLAGS = {
  original_ln_before: 'originalLnBefore',
  original_ln_after: 'originalLnAfter',
  adapter_residual_before_ln: 'adapterResidualBeforeLn',
  ln_before: 'lnBefore',
  ln_after: 'lnAfter',
  gating: 'gating',
} as const satisfies Record<string, keyof BottleneckFields>;

export const HUB_PROPERTIES = ['preset', 'residual_before_ln', ...Object.keys(FLAGS)] as const;

export interface HubProperties {
  readonly semantics: AdapterSpec['semantics'];
  readonly fields: BottleneckFields;
  /** What `preset NAME` gives at the model's size, for the properties not written. */
  readonly preset?: HubAdapterParts;
}

const BOOLEAN = ['true', 'false'] as const;

/**
 * The semantics of an inline adapter: the article's, unless it names a `preset` or writes an
 * AdapterHub field, which makes it AdapterHub's, with the preset's (or BnConfig's default)
 * fields and the written ones on top. `scale learned` / `scale channel` is a learned scaling.
 * Undefined after an error.
 */
export function readHubProperties(
  properties: ReadonlyMap<string, Property>,
  model: { readonly hidden?: number; readonly layers?: number },
  bag: DiagnosticBag,
): HubProperties | undefined {
  let ok = true;
  let preset: HubAdapterParts | undefined;
  const presetProperty = properties.get('preset');
  if (presetProperty) {
    const name = readChoice(presetProperty, ADAPTER_PRESETS, bag);
    if (name === undefined) ok = false;
    else if (model.hidden !== undefined && model.layers !== undefined)
      preset = hubAdapterParts(parseConfigString(name, name), model.hidden, model.layers, name);
  }
  const fields: { -readonly [K in keyof BottleneckFields]: BottleneckFields[K] } = {
    ...(preset?.fields ?? ARTICLE_FIELDS),
  };
  let written = presetProperty !== undefined;
  for (const [property, field] of Object.entries(FLAGS)) {
    const found = properties.get(property);
    if (!found) continue;
    written = true;
    const value = readChoice(found, BOOLEAN, bag);
    if (value === undefined) ok = false;
    else fields[field] = value === 'true';
  }
  const residual = properties.get('residual_before_ln');
  if (residual) {
    written = true;
    const value = readChoice(residual, [...BOOLEAN, 'post_add'] as const, bag);
    if (value === undefined) ok = false;
    else fields.residualBeforeLn = value === 'post_add' ? value : value === 'true';
  }
  const scale = properties.get('scale');
  const scaleWord = scale?.values.length === 1 && scale.values[0]!.kind === 'word';
  if (scale && scaleWord) {
    const value = readChoice(scale, ['learned', 'channel'] as const, bag);
    if (value === undefined) ok = false;
    else {
      fields.scaling = value;
      written = true;
    }
  }
  if (fields.residualBeforeLn === 'post_add' && !fields.originalLnBefore) {
    bag.report(
      'E0209',
      residual?.span ?? presetProperty!.span,
      "'residual_before_ln post_add' needs 'original_ln_before true': the residual is y + x, which only the original LayerNorm's input computes",
    );
    ok = false;
  }
  if (!ok) return undefined;
  return {
    semantics: written ? 'adapterhub' : 'article',
    fields,
    ...(preset ? { preset } : {}),
  };
}
