import type { ReadFile } from '../../compiler/index.js';

/**
 * A reader that remembers what it read until `freeze`, and then answers those paths from memory:
 * adding an adapter checks the spec again, and must see the files the server started with, not
 * whatever is on disk by then. Paths first read after `freeze` (the new adapter's) are read
 * fresh every time.
 */
export function startupReader(readFile: ReadFile): { readonly readFile: ReadFile; freeze(): void } {
  const seen = new Map<string, string | undefined>();
  let frozen = false;
  return {
    readFile: (path) => {
      if (seen.has(path)) return seen.get(path);
      const text = readFile(path);
      if (!frozen) seen.set(path, text);
      return text;
    },
    freeze: () => {
      frozen = true;
    },
  };
}
