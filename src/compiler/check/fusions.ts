import type { DiagnosticBag } from '../diagnostics.js';
import {
  SITES,
  type AdapterSpec,
  type FusionSite,
  type FusionSpec,
  type HubFusionFields,
  type SavedConfigValue,
  type SavedSource,
} from '../model.js';
import { FUSION_PRESETS, readFusionFields } from './adapterhub/fusion-config.js';
import type { Span } from '../source.js';
import { didYouMean, quoteList } from '../suggest.js';
import type { BlockDeclaration, Property } from '../syntax/ast.js';
import { MAX_FACTOR } from './limits.js';
import { formatLayers } from './layer-text.js';
import {
  collectProperties,
  readChoice,
  readLayers,
  readPositive,
  readSites,
  readWords,
} from './properties.js';

const FUSION_PROPERTIES = [
  'adapters',
  'at',
  'layers',
  'temperature',
  'scale',
  'value',
  'residual',
  'preset',
] as const;

/** The article's fusion options, which AdapterHub's fusion (`preset` or `from`) does not take. */
const ARTICLE_OPTIONS = ['temperature', 'scale', 'value', 'residual'] as const;

/** A fusion read from a directory: its fields and the members as its file names them. */
export interface SavedFusion {
  readonly fields: HubFusionFields;
  readonly members: readonly string[];
  readonly source: SavedSource;
  readonly savedConfig: SavedConfigValue;
  readonly span: Span;
}

export const FUSION_DEFAULTS = {
  at: ['ffn'],
  temperature: 1,
  scale: 'sqrt',
  value: 'linear',
  residual: 'off',
} as const;

/** What fusion checks need from the rest of the file. */
export interface FusionContext {
  readonly layerCount: number | undefined;
  /** Adapters that checked clean. */
  readonly adapters: ReadonlyMap<string, AdapterSpec>;
  /** Every declared adapter name, clean or not, so a broken adapter is not also "unknown". */
  readonly adapterNames: ReadonlySet<string>;
  readonly fusionNames: ReadonlySet<string>;
}

export function checkFusion(
  block: BlockDeclaration,
  context: FusionContext,
  bag: DiagnosticBag,
  saved?: SavedFusion,
): FusionSpec | undefined {
  const properties = collectProperties(
    block,
    saved ? ['adapters', 'at', 'layers'] : FUSION_PROPERTIES,
    bag,
  );
  const name = block.name.text;
  let ok = true;

  let hub = saved?.fields;
  const presetProperty = properties.get('preset');
  if (presetProperty) {
    const preset = readChoice(presetProperty, [...FUSION_PRESETS.keys()], bag);
    if (preset === undefined) ok = false;
    else hub = readFusionFields(preset, preset, '');
    for (const option of ARTICLE_OPTIONS) {
      const written = properties.get(option);
      if (!written) continue;
      bag.report(
        'E0106',
        written.name.span,
        `'${option}' sets the article's fusion; fusion '${name}' is AdapterHub's (it has a preset)`,
        "AdapterHub's fusion has no temperature, 1/sqrt(d) or value option: drop it, or drop 'preset'",
      );
      ok = false;
    }
  }

  const adaptersProperty = properties.get('adapters');
  const members: { text: string; span: Span }[] = [];
  if (!adaptersProperty && saved) {
    for (const text of saved.members) {
      if (context.adapterNames.has(text)) members.push({ text, span: saved.span });
      else {
        ok = false;
        bag.report(
          'E0302',
          saved.span,
          `${saved.source.dir}: fuses adapter '${text}', which is not declared`,
          () =>
            didYouMean(text, context.adapterNames) ??
            `declare it (adapter ${text} from "DIR"), or list the declared names in order: fusion ${name} from "${saved.source.dir}" { adapters … }`,
        );
      }
    }
  } else if (!adaptersProperty) {
    bag.report(
      'E0301',
      block.name.span,
      `fusion '${name}' lists no adapters`,
      'add `adapters a, b` naming at least two adapters',
    );
    return undefined;
  }
  const listed = adaptersProperty ? readWords(adaptersProperty, bag) : members.slice();
  if (adaptersProperty && saved && listed.length !== saved.members.length) {
    bag.report(
      'E0301',
      adaptersProperty.span,
      `${saved.source.dir} fuses ${saved.members.length} adapters (${saved.members.join(', ')}); 'adapters' lists ${listed.length}`,
      'list the declared adapters in the order the fusion saved them',
    );
    ok = false;
  }
  for (const word of adaptersProperty ? listed : []) {
    if (context.adapterNames.has(word.text)) {
      members.push(word);
      continue;
    }
    ok = false;
    const what = context.fusionNames.has(word.text)
      ? `'${word.text}' is a fusion; a fusion combines adapters only`
      : `'${word.text}' is not an adapter`;
    bag.report('E0302', word.span, what, () => didYouMean(word.text, context.adapterNames));
  }
  if ((adaptersProperty?.values.length ?? 1) > 0 && listed.length < 2) {
    bag.report(
      'E0301',
      adaptersProperty?.span ?? block.name.span,
      `fusion '${name}' needs at least two different adapters, found ${listed.length}`,
      'a single adapter needs no fusion: use it directly in a graph',
    );
    ok = false;
  }

  const atProperty = properties.get('at');
  const sites = atProperty ? readSites(atProperty, SITES, bag) : undefined;
  const layersProperty = properties.get('layers');
  const layers = layersProperty ? readLayers(layersProperty, context.layerCount, bag) : undefined;
  if ((layersProperty && !layers) || (atProperty && !sites)) ok = false;

  const temperatureProperty = properties.get('temperature');
  const temperature = temperatureProperty
    ? readTemperature(temperatureProperty, bag)
    : FUSION_DEFAULTS.temperature;
  const option = <T extends string>(key: string, choices: readonly T[], fallback: T) => {
    const property = properties.get(key);
    return property ? readChoice(property, choices, bag) : fallback;
  };
  const scale = option('scale', ['sqrt', 'none'] as const, FUSION_DEFAULTS.scale);
  const value = option('value', ['linear', 'identity'] as const, FUSION_DEFAULTS.value);
  const residual = option('residual', ['off', 'on'] as const, FUSION_DEFAULTS.residual);
  if (temperature === undefined || !scale || !value || !residual) ok = false;

  const specs = members.map((m) => context.adapters.get(m.text));
  if (!ok || context.layerCount === undefined || specs.some((s) => s === undefined)) {
    return undefined;
  }
  if (hub && !sameLocations(name, block, specs as AdapterSpec[], bag)) return undefined;
  const covers = coverage(
    name,
    block,
    specs as AdapterSpec[],
    sites?.map((s) => s.site) ??
      (hub ? commonSites(specs as AdapterSpec[]) : [...FUSION_DEFAULTS.at]),
    layers ?? Array.from({ length: context.layerCount }, (_, i) => i),
    { at: atProperty?.span, layers: layersProperty?.span },
    bag,
    hub !== undefined,
  );
  if (!covers) return undefined;
  return {
    name,
    adapters: members.map((m) => m.text),
    temperature: temperature!,
    scaleScores: scale === 'sqrt',
    value: value!,
    residual: residual === 'on',
    ...(hub ? { hub } : {}),
    ...(saved ? { source: saved.source, savedConfig: saved.savedConfig } : {}),
    covers,
    span: block.span,
  };
}

/**
 * AdapterHub's members must agree on where they sit: `BottleneckLayer.add_fusion_layer` reads
 * `common_config_value` of the location flag, which raises for members that differ.
 */
function sameLocations(
  name: string,
  block: BlockDeclaration,
  members: readonly AdapterSpec[],
  bag: DiagnosticBag,
): boolean {
  const where = (m: AdapterSpec) => SITES.filter((site) => m.placements[site] !== undefined);
  const first = where(members[0]!).join(', ');
  const other = members.find((m) => where(m).join(', ') !== first);
  if (!other) return true;
  bag.report(
    'E0303',
    block.name.span,
    `fusion '${name}' is AdapterHub's, whose adapters must sit at the same sites: '${members[0]!.name}' is at ${first}, '${other.name}' at ${where(other).join(', ')}`,
    'the adapters library refuses them (common_config_value of mh_adapter and output_adapter)',
  );
  return false;
}

/**
 * AdapterHub adds a fusion layer where every member has the same location flag set
 * (`BottleneckLayer.add_fusion_layer`, `common_config_value`): the sites all members share.
 */
function commonSites(members: readonly AdapterSpec[]): (typeof SITES)[number][] {
  return SITES.filter((site) => members.every((m) => m.placements[site] !== undefined));
}

/** Scores are multiplied by 1 / temperature, which MAX_FACTOR bounds as it does a scale. */
function readTemperature(property: Property, bag: DiagnosticBag): number | undefined {
  const temperature = readPositive(property, bag);
  if (temperature === undefined || temperature >= 1 / MAX_FACTOR) return temperature;
  bag.report(
    'E0112',
    property.values[0]!.span,
    `'temperature' must be at least 2^-24 (${(1 / MAX_FACTOR).toPrecision(3)}), found ${temperature}`,
    'the scores are multiplied by 1 / temperature in f32, where a larger factor makes scores of ordinary size overflow',
  );
  return undefined;
}

/**
 * The (layer, site) pairs the fusion combines: those of its `at` sites and `layers` where at
 * least two members are present. A site or layer the user named explicitly must be covered.
 */
function coverage(
  name: string,
  block: BlockDeclaration,
  members: readonly AdapterSpec[],
  sites: readonly (typeof SITES)[number][],
  layers: readonly number[],
  explicit: { at: Span | undefined; layers: Span | undefined },
  bag: DiagnosticBag,
  hub: boolean,
): FusionSite[] | undefined {
  const covers: FusionSite[] = [];
  const memberLayers = members.map((m) => new Set(m.layers));
  let ok = true;
  for (const layer of layers) {
    for (const site of sites) {
      const present = members.filter(
        (m, i) => m.placements[site] !== undefined && memberLayers[i]!.has(layer),
      );
      if (hub) {
        // AdapterHub's fusion layer sits at every layer of its sites: it fuses whatever members
        // are there, one included, and its last member's pre_forward and post_forward frame it.
        if (present.length === 0) continue;
        const last = members[members.length - 1]!;
        if (!present.includes(last)) {
          bag.report(
            'E0303',
            block.name.span,
            `fusion '${name}' fuses at ${site} in layer ${layer}, where its last adapter '${last.name}' is left out; the adapters library computes a fusion from its last adapter's pre_forward and fails there`,
            `leave out the same layers in every member, or list '${last.name}' earlier`,
          );
          return undefined;
        }
        covers.push({ layer, site, members: present.map((m) => m.name) });
        continue;
      }
      const parallel = present.filter((m) => m.placements[site] === 'parallel');
      if (present.length >= 2 && parallel.length > 0) {
        bag.report(
          'E0304',
          block.name.span,
          `fusion '${name}' would fuse ${quoteList(parallel.map((m) => m.name))} at ${site} in layer ${layer}, but a fusion combines sequential adapters and ${parallel.length > 1 ? 'these are' : 'it is'} parallel there`,
          `narrow the fusion with 'at' or 'layers', or place the adapter with 'at ${site}'`,
        );
        return undefined;
      }
      if (present.length >= 2) covers.push({ layer, site, members: present.map((m) => m.name) });
    }
  }
  const coveredSites = new Set(covers.map((c) => c.site));
  const coveredLayers = new Set(covers.map((c) => c.layer));
  if (explicit.at) {
    for (const site of sites) {
      if (!coveredSites.has(site)) {
        bag.report(
          'E0303',
          explicit.at,
          `fusion '${name}' is placed at ${site}, but fewer than two of its adapters are at ${site} in any of its layers`,
          presence(members, site),
        );
        ok = false;
      }
    }
  }
  if (explicit.layers) {
    const uncovered = layers.filter((layer) => !coveredLayers.has(layer));
    if (uncovered.length > 0) {
      bag.report(
        'E0303',
        explicit.layers,
        `fusion '${name}' covers layer${uncovered.length > 1 ? 's' : ''} ${formatLayers(uncovered)}, where fewer than two of its adapters are present at ${sites.join(' or ')}`,
        'narrow `layers` to where its adapters meet',
      );
      ok = false;
    }
  }
  if (ok && covers.length === 0) {
    bag.report(
      'E0303',
      block.name.span,
      `fusion '${name}' covers nothing: its adapters are never two at one site among ${sites.join(', ')}`,
      sites.length === 1 ? `${presence(members, sites[0]!)}; or set 'at'` : undefined,
    );
    ok = false;
  }
  return ok ? covers : undefined;
}

function presence(members: readonly AdapterSpec[], site: (typeof SITES)[number]): string {
  const there = members.filter((m) => m.placements[site] !== undefined).map((m) => m.name);
  return there.length === 0
    ? `none of its adapters is placed at ${site}`
    : `only ${quoteList(there)} ${there.length === 1 ? 'is' : 'are'} placed at ${site}`;
}
