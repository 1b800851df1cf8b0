import type { Span } from './source.js';

export type Severity = 'error' | 'warning';

/** Every diagnostic the compiler can report. Codes are stable: docs/language.md lists them all. */
export const DIAGNOSTIC_CODES = {
  E0001: { severity: 'error', summary: 'unexpected character' },
  E0002: { severity: 'error', summary: 'syntax error' },
  E0003: { severity: 'error', summary: 'unclosed block or parenthesis' },
  E0101: { severity: 'error', summary: 'unknown declaration kind' },
  E0102: { severity: 'error', summary: 'duplicate name' },
  E0103: { severity: 'error', summary: 'missing required model property' },
  E0104: { severity: 'error', summary: 'heads must divide hidden' },
  E0105: { severity: 'error', summary: 'size must be a positive integer' },
  E0106: { severity: 'error', summary: 'unknown property' },
  E0107: { severity: 'error', summary: 'property given twice' },
  E0108: { severity: 'error', summary: 'invalid value' },
  E0109: { severity: 'error', summary: 'wrong number of values' },
  E0110: { severity: 'error', summary: 'missing or repeated model declaration' },
  E0111: { severity: 'error', summary: 'declaration has the wrong form' },
  E0112: { severity: 'error', summary: 'number out of range' },
  E0201: { severity: 'error', summary: 'adapter size missing or given twice' },
  E0202: { severity: 'error', summary: 'reduction leaves no bottleneck' },
  W0203: { severity: 'warning', summary: 'bottleneck is not smaller than hidden' },
  E0204: { severity: 'error', summary: 'layer index out of range' },
  E0205: { severity: 'error', summary: 'reversed layer range' },
  E0206: { severity: 'error', summary: 'item listed twice' },
  E0207: { severity: 'error', summary: 'adapter both sequential and parallel at one site' },
  E0208: { severity: 'error', summary: 'adapter placed nowhere' },
  E0301: { severity: 'error', summary: 'fusion needs at least two adapters' },
  E0302: { severity: 'error', summary: 'fusion member is not an adapter' },
  E0303: { severity: 'error', summary: 'fusion covers a site with fewer than two of its adapters' },
  E0304: { severity: 'error', summary: 'parallel adapter at a fused site' },
  E0401: { severity: 'error', summary: 'graph names nothing' },
  E0402: { severity: 'error', summary: 'unknown graph combinator' },
  E0403: { severity: 'error', summary: 'invalid average weights' },
  E0404: { severity: 'error', summary: 'misplaced weight' },
  E0405: { severity: 'error', summary: 'average takes adapters only' },
  E0406: { severity: 'error', summary: 'batch(...) nested inside another expression' },
  E0407: { severity: 'error', summary: 'combinator without arguments' },
  E0408: { severity: 'error', summary: 'graph expression names a graph' },
  W0409: { severity: 'warning', summary: 'adapter or fusion used by no graph' },
  E0410: { severity: 'error', summary: 'requested graph does not exist' },
} as const satisfies Record<string, { severity: Severity; summary: string }>;

export type DiagnosticCode = keyof typeof DIAGNOSTIC_CODES;

export interface Diagnostic {
  readonly code: DiagnosticCode;
  readonly severity: Severity;
  readonly message: string;
  readonly file: string;
  /** Absent only for file-level problems that have no place in the text. */
  readonly span?: Span;
  /** A suggestion printed under the code frame, e.g. "did you mean 'bottleneck'?". */
  readonly help?: string;
}

/** Collects diagnostics for one file; stages report into it and never throw for user errors. */
export class DiagnosticBag {
  readonly items: Diagnostic[] = [];

  constructor(readonly file: string) {}

  report(code: DiagnosticCode, span: Span | undefined, message: string, help?: string): void {
    const severity = DIAGNOSTIC_CODES[code].severity;
    this.items.push({
      code,
      severity,
      message,
      file: this.file,
      ...(span ? { span } : {}),
      ...(help ? { help } : {}),
    });
  }

  get errorCount(): number {
    return this.items.filter((d) => d.severity === 'error').length;
  }
}

export function hasErrors(diagnostics: readonly Diagnostic[]): boolean {
  return diagnostics.some((d) => d.severity === 'error');
}

export function sortDiagnostics(diagnostics: readonly Diagnostic[]): Diagnostic[] {
  return [...diagnostics].sort(
    (a, b) => (a.span?.start ?? -1) - (b.span?.start ?? -1) || a.code.localeCompare(b.code),
  );
}
