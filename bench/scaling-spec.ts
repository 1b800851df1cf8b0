/**
 * A deep model of small width, so that compile cost is in the number of nodes, not their size:
 * adapters at both sites, one given as a layer range, a parallel one and a fusion over three.
 */
export function scalingSpec(layers: number): string {
  return `model scaling {
  hidden 32
  heads 4
  ffn 64
  layers ${layers}
}
adapter a { bottleneck 8 at attn, ffn }
adapter b { bottleneck 8 activation gelu at attn, ffn }
adapter c { bottleneck 16 at ffn layers 0..${layers - 1} }
adapter p { bottleneck 8 parallel ffn }
fusion f { adapters a, b, c at ffn }
graph default = stack(f, p)
`;
}
