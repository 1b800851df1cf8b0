import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/**
 * The nearest package.json above this module, as Node finds a module's package: the repository's
 * both from src/cli/ (tsx, vitest) and from dist/src/cli/ (the built CLI).
 */
function packageJsonUrl(): URL {
  for (let url = new URL('./', import.meta.url); ; url = new URL('../', url)) {
    const candidate = new URL('package.json', url);
    if (existsSync(candidate)) return candidate;
    if (new URL('../', url).href === url.href) {
      throw new Error(`no package.json above ${fileURLToPath(import.meta.url)}`);
    }
  }
}

/** The version of the adaptc package this CLI belongs to, as its package.json gives it. */
export function packageVersion(): string {
  const url = packageJsonUrl();
  const manifest: unknown = JSON.parse(readFileSync(url, 'utf8'));
  const version =
    typeof manifest === 'object' && manifest !== null && 'version' in manifest
      ? manifest.version
      : undefined;
  if (typeof version !== 'string') {
    throw new Error(`${fileURLToPath(url)} has no version string`);
  }
  return version;
}
