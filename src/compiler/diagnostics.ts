import type { Span } from './source.js';

export type Severity = 'error' | 'warning';

/** Every diagnostic the compiler can report. Codes are stable: docs/language.md lists them all. */
export const DIAGNOSTIC_CODES = {
  E0001: { severity: 'error', summary: 'unexpected character' },
  E0002: { severity: 'error', summary: 'syntax error' },
  E0003: { severity: 'error', summary: 'unclosed block or parenthesis' },
  E0004: { severity: 'error', summary: 'malformed number' },
  E0005: { severity: 'error', summary: 'expression nested too deeply' },
  E0006: { severity: 'error', summary: 'control or invisible character' },
  E0007: { severity: 'error', summary: 'name, number or string too long' },
  E0008: { severity: 'error', summary: 'too many errors' },
  W0009: { severity: 'warning', summary: 'too many warnings' },
  E0010: { severity: 'error', summary: 'unterminated string' },
  E0011: { severity: 'error', summary: 'invalid escape in a string' },
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
  E0113: { severity: 'error', summary: 'weights too large' },
  E0114: { severity: 'error', summary: 'checkpoint config.json not found' },
  E0115: { severity: 'error', summary: 'config.json is not valid JSON' },
  E0116: { severity: 'error', summary: 'config.json key missing or of the wrong type' },
  E0117: { severity: 'error', summary: 'checkpoint not supported' },
  E0118: { severity: 'error', summary: 'property disagrees with the checkpoint' },
  W0119: { severity: 'warning', summary: 'checkpoint head not supported' },
  E0120: { severity: 'error', summary: 'AdapterHub file not found' },
  E0121: { severity: 'error', summary: 'AdapterHub file invalid or not supported' },
  E0122: { severity: 'error', summary: 'AdapterHub adapter does not fit the model' },
  E0123: { severity: 'error', summary: 'inline head property missing or not of its type' },
  E0201: { severity: 'error', summary: 'adapter size missing or given twice' },
  E0202: { severity: 'error', summary: 'reduction leaves no bottleneck' },
  W0203: { severity: 'warning', summary: 'bottleneck is not smaller than hidden' },
  E0204: { severity: 'error', summary: 'layer index out of range' },
  E0205: { severity: 'error', summary: 'reversed layer range' },
  E0206: { severity: 'error', summary: 'item listed twice' },
  E0207: { severity: 'error', summary: 'adapter both sequential and parallel at one site' },
  E0208: { severity: 'error', summary: 'adapter placed nowhere' },
  E0209: { severity: 'error', summary: 'AdapterHub fields that contradict each other' },
  E0301: { severity: 'error', summary: 'fusion needs at least two adapters' },
  E0302: { severity: 'error', summary: 'fusion member is not an adapter' },
  E0303: { severity: 'error', summary: 'fusion covers a site with fewer than two of its adapters' },
  E0304: { severity: 'error', summary: 'parallel adapter at a fused site' },
  E0305: { severity: 'error', summary: 'article fusion over AdapterHub adapters' },
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
  E0411: { severity: 'error', summary: 'adapter cannot take a slot' },
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

/** A file shows at most this many errors, and as many warnings; one more diagnostic says so. */
export const MAX_SHOWN_PER_SEVERITY = 100;

/** A help line, or a function computing it, called only if the diagnostic is shown. */
export type Help = string | undefined | (() => string | undefined);

/**
 * Collects diagnostics for one file; stages report into it and never throw for user errors.
 * Past MAX_SHOWN_PER_SEVERITY errors (or warnings) it keeps counting but keeps no more, so
 * hostile input gives a bounded report; `errorsFull` lets a stage stop early.
 */
export class DiagnosticBag {
  readonly items: Diagnostic[] = [];
  private readonly counts = { error: 0, warning: 0 };

  constructor(readonly file: string) {}

  report(code: DiagnosticCode, span: Span | undefined, message: string, help?: Help): void {
    const severity = DIAGNOSTIC_CODES[code].severity;
    const count = ++this.counts[severity];
    if (count > MAX_SHOWN_PER_SEVERITY + 1) return;
    if (count === MAX_SHOWN_PER_SEVERITY + 1) {
      const [stopCode, what] =
        severity === 'error' ? (['E0008', 'errors'] as const) : (['W0009', 'warnings'] as const);
      this.push(
        stopCode,
        span,
        `more than ${MAX_SHOWN_PER_SEVERITY} ${what}; the rest are not shown`,
        `fix these and check again`,
      );
      return;
    }
    this.push(code, span, message, typeof help === 'function' ? help() : help);
  }

  private push(
    code: DiagnosticCode,
    span: Span | undefined,
    message: string,
    help: string | undefined,
  ): void {
    this.items.push({
      code,
      severity: DIAGNOSTIC_CODES[code].severity,
      message,
      file: this.file,
      ...(span ? { span } : {}),
      ...(help ? { help } : {}),
    });
  }

  /** Every error reported, shown or not. */
  get errorCount(): number {
    return this.counts.error;
  }

  /** No further error would be shown: stages may stop looking for more. */
  get errorsFull(): boolean {
    return this.counts.error > MAX_SHOWN_PER_SEVERITY;
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
