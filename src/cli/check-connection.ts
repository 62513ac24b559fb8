import { type ConnectionReport, checkConnection } from '../db/check-connection.js';
import type { ConnectionFailure } from '../db/classify.js';
import type { AttemptFailure } from '../db/retry.js';
import type { Output } from './output.js';
import { type GlobalFlags, runCommand } from './run.js';

export interface CheckConnectionFlags extends GlobalFlags {
  retries?: number;
  timeout?: number;
  connectTimeout?: number;
}

export function checkConnectionCommand(flags: CheckConnectionFlags): Promise<void> {
  return runCommand({
    name: 'check-connection',
    flags,
    job: async ({ settings, out, target }) => {
      const url = await target('runtime');
      out.debug(`connecting to ${url.host}:${url.port} as ${url.user}, TLS ${url.tls.enabled ? url.tls.verification : 'off'}`);
      return out.task(`Connecting to ${url.socket ? url.host : `${url.host}:${url.port}`}`, () =>
        checkConnection({
          url,
          environment: settings.environment,
          retries: flags.retries,
          timeoutMs: flags.timeout,
          connectTimeoutMs: flags.connectTimeout,
          onAttemptFailed: (event) => out.info(describeAttempt(event, out)),
        }),
      );
    },
    render: (report, { out }) => out.print(renderReport(report, out)),
  });
}

function describeAttempt({ attempt, maxAttempts, failure, nextDelayMs }: AttemptFailure<ConnectionFailure>, out: Output): string {
  const next = nextDelayMs === undefined ? 'no retry' : `retrying in ${(nextDelayMs / 1000).toFixed(1)} s`;
  return `${out.paint('yellow', `attempt ${attempt}/${maxAttempts}`)} failed: ${failure.code} (${failure.detail}); ${next}`;
}

function renderReport(report: ConnectionReport, out: Output): string {
  const tls = report.tls ? `yes${report.tlsVersion ? ` (${report.tlsVersion})` : ''}` : 'no';
  const heading = `${out.paint('green', out.symbol('ok'))} Connected to PostgreSQL ${report.serverVersion} at ${report.target}`;
  return [
    heading,
    out.table([
      ['database', report.database],
      ['user', report.user],
      ['TLS', tls],
      ['pooled', report.pooled ? 'yes' : 'no'],
      ['latency', `${report.latencyMs.toFixed(2)} ms (connect ${report.connectMs.toFixed(0)} ms)`],
      ['attempts', String(report.attempts)],
    ]),
  ].join('\n');
}
