import { basicSetup, EditorView } from 'codemirror';
import { StreamLanguage } from '@codemirror/language';
import {
  forceLinting,
  linter,
  lintGutter,
  type Diagnostic as LintDiagnostic,
} from '@codemirror/lint';
import { checkSource } from '../../../src/compiler/index.js';
import { readSpecFile } from './spec-files.js';

const KEYWORDS = new Set(['model', 'adapter', 'fusion', 'graph', 'stack', 'average', 'batch']);

/** Highlighting only; meaning comes from the compiler's own checker, in the linter below. */
const adaptLanguage = StreamLanguage.define({
  token(stream) {
    if (stream.eatSpace()) return null;
    if (stream.match(/#.*/)) return 'comment';
    if (stream.match(/-?\d+(\.\d+)?([eE][+-]?\d+)?/)) return 'number';
    const word = stream.match(/[A-Za-z_][A-Za-z0-9_-]*/) as RegExpMatchArray | null;
    if (word) return KEYWORDS.has(word[0]) ? 'keyword' : 'variableName';
    stream.next();
    return 'punctuation';
  },
});

/** The compiler's diagnostics as editor underlines. */
const adaptLinter = linter(
  (view) =>
    checkSource(view.state.doc.toString(), 'playground.adapt', {
      readFile: readSpecFile,
    }).diagnostics.map((d): LintDiagnostic => ({
      from: d.span?.start ?? 0,
      to: Math.min(d.span?.end ?? 0, view.state.doc.length),
      severity: d.severity,
      message: `${d.code}: ${d.message}${d.help ? `\nhelp: ${d.help}` : ''}`,
    })),
  { delay: 250 },
);

export function createEditor(
  parent: HTMLElement,
  text: string,
  onChange: (text: string) => void,
): EditorView {
  return new EditorView({
    doc: text,
    parent,
    extensions: [
      basicSetup,
      adaptLanguage,
      adaptLinter,
      lintGutter(),
      EditorView.updateListener.of((update) => {
        if (update.docChanged) onChange(update.state.doc.toString());
      }),
    ],
  });
}

export function replaceText(view: EditorView, text: string): void {
  view.dispatch({ changes: { from: 0, to: view.state.doc.length, insert: text } });
}

export function selectRange(view: EditorView, from: number, to: number): void {
  view.dispatch({ selection: { anchor: from, head: to }, scrollIntoView: true });
  view.focus();
}

/** Re-checks the spec now: the files it reads have changed. */
export function relint(view: EditorView): void {
  forceLinting(view);
}
