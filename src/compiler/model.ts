import type { Span } from './source.js';

/** The checked model: the output of the checker and the input of lowering. Plain readonly data. */

export const SITES = ['attn', 'ffn'] as const;
export type Site = (typeof SITES)[number];

export const BASE_ACTIVATIONS = ['gelu', 'gelu_tanh', 'relu', 'silu'] as const;
export const ADAPTER_ACTIVATIONS = [
  'relu',
  'gelu',
  'gelu_tanh',
  'silu',
  'tanh',
  'identity',
] as const;
export type Activation = (typeof ADAPTER_ACTIVATIONS)[number];

export interface BaseModel {
  readonly name: string;
  readonly hidden: number;
  readonly heads: number;
  readonly ffn: number;
  readonly layers: number;
  readonly activation: (typeof BASE_ACTIVATIONS)[number];
  readonly norm: 'post' | 'pre';
  readonly eps: number;
  readonly attention: 'bidirectional' | 'causal';
  readonly span: Span;
}

export type Placement = 'sequential' | 'parallel';

export interface AdapterSpec {
  readonly name: string;
  readonly bottleneck: number;
  readonly activation: Activation;
  /** Where the adapter sits: sequential (`at`) or parallel (`parallel`) per site. */
  readonly placements: Readonly<Partial<Record<Site, Placement>>>;
  /** Sorted layer indices. */
  readonly layers: readonly number[];
  readonly scale: number;
  readonly init: 'near_identity' | 'zero_up';
  readonly span: Span;
}

/** A (layer, site) where a fusion combines its members present there. */
export interface FusionSite {
  readonly layer: number;
  readonly site: Site;
  /** The members present at this site, in the fusion's listed order (at least two). */
  readonly members: readonly string[];
}

export interface FusionSpec {
  readonly name: string;
  readonly adapters: readonly string[];
  readonly temperature: number;
  /** False with `scale none`: scores are not divided by sqrt(d). */
  readonly scaleScores: boolean;
  readonly value: 'linear' | 'identity';
  readonly residual: boolean;
  readonly covers: readonly FusionSite[];
  readonly span: Span;
}

/** A graph expression with every name resolved. */
export type Composition =
  | { readonly kind: 'adapter'; readonly name: string }
  | { readonly kind: 'fusion'; readonly name: string }
  | { readonly kind: 'stack'; readonly items: readonly Composition[] }
  /** Weights normalized to sum to 1. */
  | {
      readonly kind: 'average';
      readonly items: readonly { readonly name: string; readonly weight: number }[];
    }
  | { readonly kind: 'batch'; readonly branches: readonly Composition[] };

export interface GraphSpec {
  readonly name: string;
  readonly composition: Composition;
  /** Absent for the implicit `default` graph. */
  readonly span?: Span;
}

export interface Model {
  readonly fileName: string;
  readonly base: BaseModel;
  readonly adapters: ReadonlyMap<string, AdapterSpec>;
  readonly fusions: ReadonlyMap<string, FusionSpec>;
  readonly graphs: ReadonlyMap<string, GraphSpec>;
}

export function isAdapterAt(adapter: AdapterSpec, layer: number, site: Site): boolean {
  return adapter.placements[site] !== undefined && adapter.layers.includes(layer);
}
