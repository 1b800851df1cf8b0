/** Sorted layer indices written back in the language's own form: `0..3, 7, 9..11`. */
export function formatLayers(layers: readonly number[]): string {
  const parts: string[] = [];
  let i = 0;
  while (i < layers.length) {
    let j = i;
    while (j + 1 < layers.length && layers[j + 1] === layers[j]! + 1) j++;
    parts.push(j === i ? `${layers[i]}` : `${layers[i]}..${layers[j]}`);
    i = j + 1;
  }
  return parts.join(', ');
}
