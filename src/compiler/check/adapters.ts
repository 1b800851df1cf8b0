import type { DiagnosticBag } from '../diagnostics.js';
import {
  ADAPTER_ACTIVATIONS,
  SITES,
  type AdapterSpec,
  type Placement,
  type Site,
} from '../model.js';
import type { BlockDeclaration, Property } from '../syntax/ast.js';
import { HUB_PROPERTIES, readHubProperties } from './adapterhub/inline-fields.js';
import { MAX_FACTOR } from './limits.js';
import {
  collectProperties,
  readChoice,
  readLayers,
  readNumber,
  readSites,
  readSize,
} from './properties.js';

const ADAPTER_PROPERTIES = [
  'bottleneck',
  'reduction',
  'activation',
  'at',
  'parallel',
  'layers',
  'scale',
  'init',
  ...HUB_PROPERTIES,
] as const;

export const ADAPTER_DEFAULTS = { activation: 'relu', scale: 1, init: 'near_identity' } as const;

/** What the adapter checks need to know of the model; fields are absent where it is invalid. */
export interface ModelFacts {
  readonly hidden?: number;
  readonly layers?: number;
  /** `0..layers-1`, one array that every adapter placed in all layers shares. */
  readonly allLayers?: readonly number[];
}

/** An adapter's scale multiplies its delta; past MAX_FACTOR, f32 would lose the residual. */
function readScale(property: Property, bag: DiagnosticBag): number | undefined {
  const value = readNumber(property, bag);
  if (!value) return undefined;
  if (Math.abs(value.value) > MAX_FACTOR) {
    bag.report(
      'E0112',
      value.span,
      `'scale' must be between -${MAX_FACTOR} and ${MAX_FACTOR} (2^24), found ${value.text}`,
      'the delta is added to the hidden state in f32, whose 24-bit significand a larger factor swamps',
    );
    return undefined;
  }
  if (value.value !== 0 && Math.fround(value.value) === 0) {
    bag.report(
      'E0112',
      value.span,
      `'scale' ${value.text} is 0 in f32, the precision the model runs in`,
      'the smallest f32 is about 1.4e-45; write 0 to turn the adapter off',
    );
    return undefined;
  }
  return value.value;
}

export function checkAdapter(
  block: BlockDeclaration,
  model: ModelFacts,
  bag: DiagnosticBag,
): AdapterSpec | undefined {
  const properties = collectProperties(block, ADAPTER_PROPERTIES, bag);
  const name = block.name.text;
  let ok = true;
  const hub = readHubProperties(properties, model, bag);
  if (hub === undefined) ok = false;
  const preset = hub?.preset;

  const bottleneckProperty = properties.get('bottleneck');
  const reductionProperty = properties.get('reduction');
  let bottleneck: number | undefined;
  if (bottleneckProperty && reductionProperty) {
    bag.report(
      'E0201',
      reductionProperty.span,
      `adapter '${name}' gives both 'bottleneck' and 'reduction'`,
      'keep one: `bottleneck r` sets r, `reduction k` sets r = floor(hidden / k)',
    );
    ok = false;
  } else if (bottleneckProperty) {
    bottleneck = readSize(bottleneckProperty, bag, { row: true });
  } else if (reductionProperty) {
    const reduction = readSize(reductionProperty, bag);
    if (reduction !== undefined && model.hidden !== undefined) {
      bottleneck = Math.floor(model.hidden / reduction);
      if (bottleneck < 1) {
        bag.report(
          'E0202',
          reductionProperty.values[0]?.span ?? reductionProperty.span,
          `reduction ${reduction} leaves no bottleneck: floor(${model.hidden} / ${reduction}) = 0`,
          `use a reduction of at most ${model.hidden}`,
        );
        bottleneck = undefined;
      }
    }
  } else if (preset) {
    bottleneck = preset.bottleneck;
  } else if (hub !== undefined) {
    bag.report(
      'E0201',
      block.name.span,
      `adapter '${name}' has no size`,
      'add `bottleneck r` (e.g. bottleneck 64) or `reduction k` (e.g. reduction 16)',
    );
    ok = false;
  }
  if (bottleneck === undefined) ok = false;
  if (bottleneck !== undefined && model.hidden !== undefined && bottleneck >= model.hidden) {
    const where = bottleneckProperty ?? reductionProperty!;
    bag.report(
      'W0203',
      where.values[0]?.span ?? where.span,
      `bottleneck ${bottleneck} of adapter '${name}' is not smaller than hidden (${model.hidden}): it compresses nothing`,
    );
  }

  const placements: Partial<Record<Site, Placement>> = {};
  for (const [keyword, placement] of [
    ['at', 'sequential'],
    ['parallel', 'parallel'],
  ] as const) {
    const property = properties.get(keyword);
    if (!property) continue;
    const sites = readSites(property, SITES, bag);
    if (!sites) ok = false;
    for (const { site, span } of sites ?? []) {
      if (placements[site] !== undefined && placements[site] !== placement) {
        bag.report(
          'E0207',
          span,
          `adapter '${name}' is both sequential and parallel at ${site}`,
          `an adapter sits at a site one way: keep it in either 'at' or 'parallel'`,
        );
        ok = false;
      }
      placements[site] = placement;
    }
  }
  if (!properties.has('at') && !properties.has('parallel') && preset) {
    Object.assign(placements, preset.placements);
  } else if (!properties.has('at') && !properties.has('parallel')) {
    bag.report(
      'E0208',
      block.name.span,
      `adapter '${name}' is placed nowhere`,
      'add `at ffn` (after the FFN), `at attn, ffn`, or `parallel ffn`',
    );
    ok = false;
  }

  const layersProperty = properties.get('layers');
  const layers = layersProperty
    ? readLayers(layersProperty, model.layers, bag)
    : (preset?.layers ?? model.allLayers);
  if (layers === undefined) ok = false;

  const activationProperty = properties.get('activation');
  const activation = activationProperty
    ? readChoice(activationProperty, ADAPTER_ACTIVATIONS, bag)
    : (preset?.activation ?? ADAPTER_DEFAULTS.activation);
  const scaleProperty = properties.get('scale');
  const learned = hub?.fields.scaling !== undefined && scaleProperty !== undefined;
  const scale =
    scaleProperty && !learned
      ? readScale(scaleProperty, bag)
      : (preset?.scale ?? ADAPTER_DEFAULTS.scale);
  const initProperty = properties.get('init');
  const init = initProperty
    ? readChoice(initProperty, ['near_identity', 'zero_up'] as const, bag)
    : ADAPTER_DEFAULTS.init;

  if (!ok || !hub || activation === undefined || scale === undefined || init === undefined)
    return undefined;
  const sized = bottleneckProperty || reductionProperty ? undefined : preset?.layerBottlenecks;
  return {
    name,
    bottleneck: bottleneck!,
    ...(sized ? { layerBottlenecks: sized } : {}),
    semantics: hub.semantics,
    fields: hub.fields,
    activation,
    placements,
    layers: layers!,
    scale,
    init,
    span: block.span,
  };
}
