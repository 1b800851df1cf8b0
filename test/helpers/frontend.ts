import { checkSource } from '../../src/compiler/frontend.js';

export const MODEL = 'model m { hidden 64 heads 4 ffn 128 layers 4 }\n';

/** Diagnostics of a source as `CODE line:column 'text under the span'`, for compact assertions. */
export function diagnose(text: string): string[] {
  const result = checkSource(text, 'test.adapt');
  return result.diagnostics.map((d) => {
    if (!d.span) return `${d.code} -`;
    const { line, column } = result.source.position(d.span.start);
    return `${d.code} ${line}:${column} '${text.slice(d.span.start, d.span.end)}'`;
  });
}

export function messages(text: string): string[] {
  return checkSource(text, 'test.adapt').diagnostics.map((d) => `${d.code}: ${d.message}`);
}
