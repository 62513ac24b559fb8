import { EXIT, exitCodeForSignal } from '../core/errors.js';
import { type SetupReport, type SetupStepName, setup } from '../setup/setup.js';
import type { Output } from './output.js';
import { type GlobalFlags, runCommand, type Verdict } from './run.js';
import { smokeFailure } from './smoke.js';

export function setupCommand(flags: GlobalFlags): Promise<void> {
  return runCommand({
    name: 'setup',
    flags,
    namesTarget: true,
    job: ({ settings, out, signal, target }) =>
      setup({
        settings,
        target,
        signal,
        log: (line) => out.info(line),
        onStep: (name, summary, ok) => out.mode !== 'json' && out.print(stepLine(name, summary, ok, out)),
      }),
    render: (report, { out }) => out.print(renderSummary(report, out)),
    verdict,
  });
}

function stepLine(name: SetupStepName, summary: string, ok: boolean, out: Output): string {
  const symbol = ok ? out.paint('green', out.symbol('ok')) : out.paint('red', out.symbol('fail'));
  return `${symbol} ${name.padEnd(10)}  ${summary}`;
}

function renderSummary(report: SetupReport, out: Output): string {
  const failed = smokeFailure(report.smoke);
  if (failed) return `${out.paint('red', out.symbol('fail'))} Setup finished, but the smoke test failed; see above.`;
  const next = report.next.map((line) => `  ${line}`).join('\n');
  return `\n${out.paint('green', out.symbol('ok'))} Ready. Next:\n${next}`;
}

function verdict(report: SetupReport): Verdict {
  const error = smokeFailure(report.smoke);
  if (!error) return { exitCode: EXIT.ok, statusCode: 200 };
  return { exitCode: report.smoke.interruptedBy ? exitCodeForSignal(report.smoke.interruptedBy) : EXIT.checkFailed, statusCode: 503, error };
}
