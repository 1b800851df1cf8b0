import { SingleBar } from 'cli-progress';
import type { EvaluationReport, StepReport } from '../../runtime/training/loop.js';
import { cliStderr, type CliIO } from '../io.js';

export interface Progress {
  readonly onStep: (report: StepReport) => void;
  readonly onEvaluation: (report: EvaluationReport) => void;
  /** A line of its own (a checkpoint written), above the bar. */
  readonly note: (line: string) => void;
  readonly stop: () => void;
}

const loss = (value: number) => value.toFixed(4);
const rate = (steps: number, ms: number) => (ms > 0 ? ((1000 * steps) / ms).toFixed(2) : '-');

export function evaluationLine(report: EvaluationReport): string {
  return `eval  epoch ${Number(report.epoch.toFixed(2))}  step ${report.step}  loss ${loss(report.loss)}  accuracy ${(100 * report.accuracy).toFixed(2)}% of ${report.labels}`;
}

/**
 * A progress bar with the loss and steps/s where stderr is a terminal; elsewhere a log line
 * every `logEvery` steps (and at the last).
 */
export function trainingProgress(io: CliIO, logEvery: number, startStep: number): Progress {
  const started = performance.now();
  const stepsPerSecond = (step: number) => rate(step - startStep, performance.now() - started);
  if (io.color && cliStderr().isTTY === true) {
    const bar = new SingleBar({
      format:
        'train {bar} {value}/{total} steps | loss {loss} | {speed} steps/s | eta {eta_formatted}',
      stream: cliStderr(),
      hideCursor: true,
    });
    let begun = false;
    return {
      onStep: (report) => {
        const payload = { loss: loss(report.loss), speed: stepsPerSecond(report.step) };
        if (!begun) bar.start(report.totalSteps, report.step, payload);
        else bar.update(report.step, payload);
        begun = true;
      },
      onEvaluation: (report) => {
        bar.stop();
        begun = false;
        io.stderr(`${evaluationLine(report)}\n`);
      },
      note: (line) => {
        bar.stop();
        begun = false;
        io.stderr(`${line}\n`);
      },
      stop: () => bar.stop(),
    };
  }
  return {
    onStep: (report) => {
      if (report.step % logEvery !== 0 && report.step !== report.totalSteps) return;
      io.stderr(
        `step ${report.step}/${report.totalSteps}  epoch ${report.epoch}  loss ${loss(report.loss)}  lr ${report.lr.toExponential(2)}  ${stepsPerSecond(report.step)} steps/s\n`,
      );
    },
    onEvaluation: (report) => io.stderr(`${evaluationLine(report)}\n`),
    note: (line) => io.stderr(`${line}\n`),
    stop: () => undefined,
  };
}
