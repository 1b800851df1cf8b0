import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

/** A text table; a column whose cells all look numeric is right-aligned. */
export function table(headers: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const numeric = headers.map((_, i) => rows.every((r) => /^[-+0-9.,e%x× ]*$/.test(r[i]!)));
  const line = (cells: readonly string[]) =>
    cells
      .map((c, i) => (numeric[i] ? c.padStart(widths[i]!) : c.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  return [line(headers), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

export const fixed = (x: number, digits: number) =>
  Number.isFinite(x) ? x.toFixed(digits) : String(x);

export const mib = (bytes: number) => fixed(bytes / 1048576, 2);

/** The report as the repository's Prettier would format it, so `format:check` stays clean. */
async function formatJson(file: string, report: unknown): Promise<string> {
  const text = `${JSON.stringify(report, null, 2)}\n`;
  try {
    const prettier = await import('prettier');
    const config = (await prettier.resolveConfig(file)) ?? {};
    return await prettier.format(text, { ...config, parser: 'json' });
  } catch {
    return text;
  }
}

export async function writeReport(file: string, report: unknown): Promise<void> {
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, await formatJson(file, report));
}
