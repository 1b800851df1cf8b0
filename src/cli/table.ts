/** Plain text tables for terminal output: first column left-aligned, the rest right-aligned. */
export function formatTable(
  header: readonly string[],
  rows: readonly (readonly string[])[],
): string {
  const all = [header, ...rows];
  // A reduce, not Math.max(...): a spread of 200,000 rows overflows the stack.
  const widths = header.map((_, column) =>
    all.reduce((width, row) => Math.max(width, (row[column] ?? '').length), 0),
  );
  const line = (row: readonly string[]) =>
    row
      .map((cell, column) =>
        column === 0 ? cell.padEnd(widths[column]!) : cell.padStart(widths[column]!),
      )
      .join('  ')
      .trimEnd();
  return [line(header), ...rows.map(line)].map((l) => `  ${l}`).join('\n');
}

export function thousands(value: number): string {
  return value.toLocaleString('en-US');
}

export function percent(value: number, digits = 2): string {
  return `${value.toFixed(digits)}%`;
}
