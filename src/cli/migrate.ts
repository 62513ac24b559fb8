import { defaultMigrationsDir } from '../config/package-root.js';
import { databaseTarget } from '../db/target.js';
import { EXIT } from '../errors.js';
import { createMigration, Migrator, type DownReport, type PlannedStep, type StatusReport, type UpReport } from '../migrations/index.js';
import type { Output } from './output.js';
import { runCommand, type CommandContext, type GlobalFlags } from './run.js';

export interface MigrateFlags extends GlobalFlags {
  to?: string;
  dryRun?: boolean;
  lockTimeout?: number;
  statementLockTimeout?: number;
  allowOutOfOrder?: boolean;
  steps?: number;
  yes?: boolean;
}

async function migrator({ settings, out }: CommandContext, flags: MigrateFlags): Promise<Migrator> {
  const url = await databaseTarget(settings, { purpose: 'migrations', log: (line) => out.info(line) });
  return new Migrator({
    url,
    migrationsDir: settings.migrationsDir ?? defaultMigrationsDir(),
    environment: settings.environment,
    lockTimeoutMs: flags.lockTimeout,
    statementLockTimeoutMs: flags.statementLockTimeout,
    log: (line) => out.info(line),
  });
}

export function migrateUpCommand(flags: MigrateFlags): Promise<void> {
  return runCommand({
    name: 'migrate up',
    flags,
    job: async (context) => (await migrator(context, flags)).up({ to: flags.to, dryRun: flags.dryRun, allowOutOfOrder: flags.allowOutOfOrder }),
    render: (report, { out }) => out.print(renderUp(report, out)),
  });
}

export function migrateDownCommand(flags: MigrateFlags): Promise<void> {
  return runCommand({
    name: 'migrate down',
    flags,
    job: async (context) => (await migrator(context, flags)).down({ steps: flags.steps, to: flags.to, dryRun: flags.dryRun, yes: flags.yes }),
    render: (report, { out }) => out.print(renderDown(report, out)),
  });
}

export function migrateStatusCommand(flags: MigrateFlags): Promise<void> {
  return runCommand({
    name: 'migrate status',
    flags,
    job: async (context) => (await migrator(context, flags)).status(),
    render: (report, { out }) => out.print(renderStatus(report, out)),
    verdict: (report) =>
      report.upToDate
        ? { exitCode: EXIT.ok, statusCode: 200 }
        : { exitCode: EXIT.checkFailed, statusCode: 503, error: { code: 'MIGRATIONS_NOT_UP_TO_DATE', message: 'Some migrations are pending, failed, edited or missing.', hint: 'See the list; run todo-db migrate up for pending ones.' } },
  });
}

export function migrateCreateCommand(name: string, flags: MigrateFlags): Promise<void> {
  return runCommand({
    name: 'migrate create',
    flags,
    job: ({ settings }) => createMigration({ migrationsDir: settings.migrationsDir ?? defaultMigrationsDir(), name }),
    render: (created, { out }) => out.print(`${out.paint('green', out.symbol('ok'))} Created ${created.name}\n${created.files.map((file) => `  ${file}`).join('\n')}`),
  });
}

function renderUp(report: UpReport, out: Output): string {
  if (report.dryRun) return renderPlan('Would apply', report.plan, out);
  if (report.applied.length === 0) return `${out.paint('green', out.symbol('ok'))} Already up to date`;
  const lines = report.applied.map((step) => `  ${step.name}  ${out.paint('gray', `${step.durationMs} ms`)}`);
  return `${out.paint('green', out.symbol('ok'))} Applied ${plural(report.applied.length, 'migration')}\n${lines.join('\n')}`;
}

function renderDown(report: DownReport, out: Output): string {
  if (report.dryRun) return renderPlan('Would roll back', report.plan, out);
  if (report.rolledBack.length === 0) return `${out.paint('green', out.symbol('ok'))} Nothing to roll back`;
  const lines = report.rolledBack.map((step) => `  ${step.name}  ${out.paint('gray', `${step.durationMs} ms`)}`);
  return `${out.paint('green', out.symbol('ok'))} Rolled back ${plural(report.rolledBack.length, 'migration')}\n${lines.join('\n')}`;
}

function renderPlan(verb: string, plan: PlannedStep[], out: Output): string {
  if (plan.length === 0) return `${verb} nothing (dry run; nothing was changed)`;
  const steps = plan.map((step) => `${out.paint('bold', `-- ${step.name}${step.transactional ? '' : ' (outside a transaction)'}`)}\n${step.sql.trimEnd()}`);
  return `${verb} ${plural(plan.length, 'migration')} (dry run; nothing was changed):\n\n${steps.join('\n\n')}`;
}

const STATE_COLOURS = { applied: 'green', pending: 'yellow', 'rolled-back': 'yellow', failed: 'red', edited: 'red', missing: 'red' } as const;

function renderStatus(report: StatusReport, out: Output): string {
  if (report.migrations.length === 0) return 'No migrations in the folder and none applied.';
  const width = Math.max(...report.migrations.map((entry) => entry.name.length));
  const rows = report.migrations.map((entry) => {
    const when = entry.state === 'rolled-back' ? entry.rolledBackAt : entry.finishedAt ?? entry.startedAt;
    const state = out.paint(STATE_COLOURS[entry.state], entry.state.padEnd(11));
    const note = entry.state === 'rolled-back' && entry.logs ? out.paint('gray', '  (a failed attempt, rolled back)') : '';
    return `  ${entry.name.padEnd(width)}  ${state}  ${when ?? ''}${note}`.trimEnd();
  });
  const summary = Object.entries(report.counts).filter(([, count]) => count > 0).map(([state, count]) => `${count} ${state}`).join(', ');
  const verdict = report.upToDate ? `${out.paint('green', out.symbol('ok'))} Up to date` : `${out.paint('yellow', out.symbol('warn'))} Not up to date`;
  return `${verdict} (${summary})\n${rows.join('\n')}`;
}

function plural(count: number, noun: string): string {
  return `${count} ${noun}${count === 1 ? '' : 's'}`;
}
