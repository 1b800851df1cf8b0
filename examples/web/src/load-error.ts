/** A file the page could not load: one line naming the file, and the key or tensor where known. */
export class LoadError extends Error {
  override name = 'LoadError';
}

/** The message of anything thrown while loading, as one line. */
export function loadErrorMessage(error: unknown): string {
  return (error instanceof Error ? error.message : String(error)).replace(/\s+/g, ' ');
}
