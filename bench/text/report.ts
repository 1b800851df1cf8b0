import { updateSection } from '../readme-section.js';
import { fixed } from '../kernels/report.js';
import type { ConfigurationSummary, TargetResult } from './summary.js';

const ms = (x: number) => fixed(x, 1);

export const CONFIGURATION_HEADERS = [
  'model',
  'backend',
  'batch',
  'calls',
  'tokenize ms',
  'forward ms',
  'scores ms',
  'total ms',
  'sentences/s',
  'tokenize %',
  'labels = ref',
  'max Δscore',
];

export function configurationRows(summaries: readonly ConfigurationSummary[], texts: number) {
  return summaries.map((s) => [
    s.model,
    s.backend,
    String(s.batch),
    String(s.calls),
    ms(s.tokenize_ms),
    ms(s.forward_ms),
    ms(s.scores_ms),
    ms(s.total_ms),
    fixed(s.sentences_per_s, 0),
    fixed(100 * s.tokenize_share, 1),
    `${s.labels_agree}/${texts}`,
    s.max_score_diff.toExponential(1),
  ]);
}

export const TARGET_HEADERS = ['target', 'model', 'value', 'goal', 'result'];

export function targetRows(targets: readonly TargetResult[]) {
  return targets.map((t) => {
    const share = t.target.startsWith('tokenize');
    const show = (x: number) => (share ? `${fixed(100 * x, 1)}%` : `${fixed(x, 2)}x`);
    return [
      t.target,
      t.model,
      t.value === null ? '-' : show(t.value),
      `${t.rule === 'below' ? '<' : '≥'} ${show(t.threshold)}`,
      t.met === null ? 'not measured (no WebGPU run)' : t.met ? 'met' : 'missed',
    ];
  });
}

export function markdownTable(headers: readonly string[], rows: readonly (readonly string[])[]) {
  const line = (cells: readonly string[]) => `| ${cells.join(' | ')} |`;
  return [line(headers), line(headers.map(() => '---')), ...rows.map(line)].join('\n');
}

export const SECTION_HEADING = '## Text classification: tokenize vs forward';

/** bench/README.md with `section` in place of its text-classification section. */
export function updateReadme(file: string, section: string): Promise<void> {
  return updateSection(file, SECTION_HEADING, section);
}
