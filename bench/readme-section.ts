import { readFileSync, writeFileSync } from 'node:fs';

/**
 * `file` with `section` in place of the section under `heading` (from it to the next `## `
 * heading), or at the end where it has none; the other sections are left as they are, and the
 * whole formatted as the repository's Prettier formats Markdown.
 */
export async function updateSection(file: string, heading: string, section: string) {
  const lines = readFileSync(file, 'utf8').split('\n');
  const start = lines.indexOf(heading);
  let text: string;
  if (start < 0) {
    text = `${lines.join('\n').trimEnd()}\n\n${section}`;
  } else {
    const next = lines.findIndex((l, i) => i > start && l.startsWith('## '));
    const after = next < 0 ? [] : lines.slice(next);
    text = [...lines.slice(0, start), ...section.trimEnd().split('\n'), '', ...after].join('\n');
  }
  const prettier = await import('prettier');
  const config = (await prettier.resolveConfig(file)) ?? {};
  writeFileSync(file, await prettier.format(text, { ...config, parser: 'markdown' }));
}
