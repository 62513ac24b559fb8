import { defaultMigrationsDir } from '../config/package-root.js';
import { redactDeep } from '../config/redact.js';
import { EXIT, usageError } from '../core/errors.js';
import { checkHealth, type HealthReport } from '../health/check.js';
import { serveHealth } from '../health/server.js';
import type { Envelope } from './output.js';
import { type CommandContext, type GlobalFlags, runCommand, type Verdict } from './run.js';

export interface HealthFlags extends GlobalFlags {
  timeout?: number;
  serve?: boolean;
  port?: number;
  host?: string;
}

export function healthCommand(flags: HealthFlags): Promise<void> {
  if (flags.serve) return serveCommand(flags);
  return runCommand({
    name: 'health',
    flags,
    job: (context) => check(context, flags),
    render: (report, { out }) => {
      const symbol = report.status === 'healthy' ? out.paint('green', out.symbol('ok')) : out.paint('red', out.symbol('fail'));
      const rows: Array<[string, string]> = [
        ['database', report.database],
        ['migration', report.migration],
      ];
      if (report.detail) rows.push(['detail', report.detail]);
      out.print(`${symbol} ${report.status}\n${out.table(rows)}`);
    },
    verdict: healthVerdict,
  });
}

async function check({ settings, target }: CommandContext, flags: HealthFlags): Promise<HealthReport> {
  const url = await target('runtime');
  return checkHealth({ url, migrationsDir: settings.migrationsDir ?? defaultMigrationsDir(), environment: settings.environment, timeoutMs: flags.timeout });
}

function healthVerdict(report: HealthReport): Verdict {
  if (report.status === 'healthy') return { exitCode: EXIT.ok, statusCode: 200 };
  return {
    exitCode: EXIT.checkFailed,
    statusCode: 503,
    error: {
      code: 'UNHEALTHY',
      message: `Unhealthy: ${report.detail}`,
      hint: HINTS[report.migration === 'unknown' ? report.database : report.migration] ?? '',
    },
  };
}

const HINTS: Record<string, string> = {
  unreachable: 'Run todo-db check-connection to see why the database cannot be reached.',
  connected: 'Run todo-db migrate status to see the migration history.',
  pending: 'Run todo-db migrate up.',
  running: 'A migration is being applied right now; check again when it finishes (todo-db migrate status shows it).',
  failed: 'Run todo-db migrate status to see which migration failed or changed.',
};

function healthEnvelope(report: HealthReport): Envelope<HealthReport> {
  const { exitCode, statusCode, error = null } = healthVerdict(report);
  return { ok: exitCode === EXIT.ok, command: 'health', status_code: statusCode, data: report, error };
}

/** Serves until SIGTERM (exit 0) or SIGINT (exit 130); each request runs a fresh check. */
function serveCommand(flags: HealthFlags): Promise<void> {
  return runCommand({
    name: 'health',
    flags,
    ownSignals: true,
    job: async (context) => {
      const server = await serveHealth({
        port: flags.port ?? 8080,
        host: flags.host ?? '127.0.0.1',
        respond: async () => {
          const envelope = healthEnvelope(await check(context, flags));
          return { statusCode: envelope.status_code, body: redactDeep(envelope) };
        },
      }).catch((error: NodeJS.ErrnoException) => {
        if (error.code !== 'EADDRINUSE' && error.code !== 'EACCES') throw error;
        throw usageError(
          'PORT_UNAVAILABLE',
          `Cannot listen on ${flags.host ?? '127.0.0.1'}:${flags.port ?? 8080}: ${error.code === 'EADDRINUSE' ? 'the port is in use' : 'permission denied'}.`,
          'Choose another --port.',
        );
      });
      context.out.info(`Serving health at ${server.url} (SIGTERM stops it)`);
      const signal = await new Promise<NodeJS.Signals>((resolve) => {
        process.once('SIGTERM', () => resolve('SIGTERM'));
        process.once('SIGINT', () => resolve('SIGINT'));
      });
      await server.close();
      context.out.info(`Stopped on ${signal}`);
      return { url: server.url, stoppedBy: signal };
    },
    render: () => {},
    verdict: ({ stoppedBy }) => (stoppedBy === 'SIGINT' ? { exitCode: EXIT.interrupted, statusCode: 200 } : { exitCode: EXIT.ok, statusCode: 200 }),
  });
}
