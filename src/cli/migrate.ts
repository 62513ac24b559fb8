import type { MigrateDiffReport } from '../checks/migrate-diff.js';
import { defaultMigrationsDir } from '../config/package-root.js';
import { parseShadowUrl } from '../config/settings.js';
import { EXIT } from '../core/errors.js';
import { favourMemoryForLargeSql } from '../core/heap.js';
import type { SchemaDiffReport } from '../drafts/schema-engine.js';
import type { LintReport } from '../lint/lint.js';
import { type DownReport, Migrator, type MigratorOptions, type PlannedStep, type StatusReport, type UpReport } from '../migrations/index.js';
import type { Difference } from '../schema/differences.js';
import { renderFindings, renderLockPlan, warnLintSummary } from './lint.js';
import { leftOutLine, type Output, plural } from './output.js';
import { type CommandContext, type GlobalFlags, runCommand } from './run.js';

export interface MigrateFlags extends GlobalFlags {
  to?: string;
  dryRun?: boolean;
  lockTimeout?: number;
  statementLockTimeout?: number;
  allowOutOfOrder?: boolean;
  steps?: number;
  yes?: boolean;
  schema?: boolean;
  comments?: boolean;
  shadowDatabaseUrl?: string;
  allowLintErrors?: boolean;
}

export async function migrator(
  { settings, out, target }: CommandContext,
  flags: MigrateFlags,
  hooks: Pick<MigratorOptions, 'beforeApply' | 'onPending'> = {},
): Promise<Migrator> {
  const url = await target('migrations');
  return new Migrator({
    url,
    migrationsDir: settings.migrationsDir ?? defaultMigrationsDir(),
    environment: settings.environment,
    lockTimeoutMs: flags.lockTimeout,
    statementLockTimeoutMs: flags.statementLockTimeout,
    log: (line) => out.info(line),
    ...hooks,
  });
}

export type UpResult = UpReport & { lint: LintReport | null };

export function migrateUpCommand(flags: MigrateFlags): Promise<void> {
  return runCommand<UpResult>({
    name: 'migrate up',
    flags,
    namesTarget: true,
    job: async (context) => {
      let lint: LintReport | null = null;
      // Only when something is pending: a no-op up never loads the parser.
      const lintPending: MigratorOptions['beforeApply'] = async (pending, client) => {
        const { lintBeforeUp } = await import('../lint/gate.js');
        lint = await lintBeforeUp(pending, client, {
          environment: context.settings.environment,
          allowLintErrors: flags.allowLintErrors === true,
          dryRun: flags.dryRun === true,
        });
        if (!flags.dryRun) warnLintSummary(lint, context.out);
      };
      const report = await (await migrator(context, flags, { beforeApply: lintPending, onPending: favourMemoryForLargeSql })).up({
        to: flags.to,
        dryRun: flags.dryRun,
        allowOutOfOrder: flags.allowOutOfOrder,
      });
      return { ...report, lint };
    },
    render: (report, { out }) => out.print(renderUp(report, out)),
  });
}

export function migrateDownCommand(flags: MigrateFlags): Promise<void> {
  return runCommand({
    name: 'migrate down',
    flags,
    namesTarget: true,
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
        : {
            exitCode: EXIT.checkFailed,
            statusCode: 503,
            error: { code: 'MIGRATIONS_NOT_UP_TO_DATE', message: `Not every migration is applied: ${notApplied(report)}.`, hint: statusHint(report) },
          },
  });
}

export function migrateCreateCommand(name: string, flags: MigrateFlags): Promise<void> {
  return runCommand({
    name: 'migrate create',
    flags,
    job: async ({ settings }) => {
      const { createMigration } = await import('../drafts/create.js');
      return createMigration({ migrationsDir: settings.migrationsDir ?? defaultMigrationsDir(), name });
    },
    render: (created, { out }) =>
      out.print(`${out.paint('green', out.symbol('ok'))} Created ${created.name}\n${created.files.map((file) => `  ${file}`).join('\n')}`),
  });
}

export interface DiffResult {
  live: MigrateDiffReport;
  /** Only with --schema. */
  schema: SchemaDiffReport | null;
  /** Both comparisons' differences together. */
  differences: Difference[];
}

/** The live database against the migrations; with --schema, also the migrations against schema.prisma. */
export function migrateDiffCommand(flags: MigrateFlags): Promise<void> {
  // SIGINT or SIGTERM drops the shadow database (registered as it is created), then exits 130 or 143.
  return runCommand<DiffResult>({
    name: 'migrate diff',
    flags,
    namesTarget: true,
    job: async (context) => {
      const inputs = await diffInputs(context, flags);
      const live = await liveDiff(context, inputs);
      const schema = flags.schema ? await schemaDiff(context, inputs) : null;
      return { live, schema, differences: [...live.differences, ...(schema?.differences ?? [])] };
    },
    render: (result, { out }) => out.print([renderLiveDiff(result.live, out), ...(result.schema ? [renderSchemaDiff(result.schema, out)] : [])].join('\n')),
    verdict: (result) =>
      result.differences.length === 0 ? { exitCode: EXIT.ok, statusCode: 200 } : { exitCode: EXIT.checkFailed, statusCode: 503, error: driftError(result) },
  });
}

function driftError({ live, schema }: DiffResult) {
  const parts = [
    live.differences.length > 0 ? `the live schema differs from what the migrations produce in ${plural(live.differences.length, 'place')}` : '',
    schema && schema.differences.length > 0 ? `prisma/schema.prisma and the migrations differ in ${plural(schema.differences.length, 'place')}` : '',
  ].filter(Boolean);
  return {
    code: 'SCHEMA_DRIFT',
    message: `${capitalize(parts.join(', and '))}.`,
    hint: 'Put intended changes into a migration (todo-db migrate create <name>) and undo unintended ones; change schema.prisma until it agrees with the migrations; for pending migrations, run todo-db migrate up.',
  };
}

export type DiffInputs = Awaited<ReturnType<typeof diffInputs>>;

export async function diffInputs({ settings, out, signal, target }: CommandContext, flags: MigrateFlags) {
  // Parsed first: a malformed --shadow-database-url is a usage error before any database work.
  const shadowDatabaseUrl = parseShadowUrl(flags.shadowDatabaseUrl, settings);
  for (const warning of shadowDatabaseUrl?.warnings ?? []) out.warn(warning);
  // The direct URL: the shadow database is created next to it, and a pooler cannot run CREATE DATABASE sessions.
  const url = await target('migrations');
  const log = (line: string) => out.debug(line);
  return {
    url,
    shadowDatabaseUrl,
    migrationsDir: settings.migrationsDir ?? defaultMigrationsDir(),
    environment: settings.environment,
    comments: flags.comments === true,
    externalTables: settings.externalTables.names,
    shadowInit: settings.shadowInit,
    log,
    signal,
  };
}

async function liveDiff(context: CommandContext, inputs: DiffInputs): Promise<MigrateDiffReport> {
  const { diffLiveWithMigrations } = await import('../checks/migrate-diff.js');
  return context.out.task('Comparing the live schema with the migrations (in a shadow database)', () => diffLiveWithMigrations(inputs));
}

async function schemaDiff(context: CommandContext, inputs: DiffInputs): Promise<SchemaDiffReport> {
  const { diffSchemaWithMigrations } = await import('../drafts/schema-engine.js');
  return context.out.task('Comparing the migrations with schema.prisma (in shadow databases)', () => diffSchemaWithMigrations(inputs));
}

function renderLiveDiff(report: MigrateDiffReport, out: Output): string {
  const warn = out.paint('yellow', out.symbol('warn'));
  const notes = [
    report.pendingMigrations.length > 0
      ? `${warn} Not applied live yet, so their objects count as differences (run todo-db migrate up): ${report.pendingMigrations.join(', ')}`
      : '',
    report.missingMigrations.length > 0
      ? `${warn} Applied live but missing from the folder, so the shadow lacks their objects: ${report.missingMigrations.join(', ')}`
      : '',
    report.leftOut.length > 0 ? out.paint('gray', `${leftOutLine(report.leftOut)}.`) : '',
  ].filter(Boolean);
  return [renderDifferences(report.differences, 'the live schema', 'the migrations', report.durationMs, out), ...notes].join('\n');
}

function renderSchemaDiff(report: SchemaDiffReport, out: Output): string {
  const ignored = out.paint('gray', `Not compared (schema.prisma cannot express them): ${report.ignored.join(', ')}.`);
  return [renderDifferences(report.differences, 'the migrations', report.schemaPath, report.durationMs, out), ignored].join('\n');
}

function renderDifferences(differences: Difference[], left: string, right: string, durationMs: number, out: Output): string {
  const took = out.paint('gray', `(${Math.round(durationMs / 100) / 10} s)`);
  if (differences.length === 0) return `${out.paint('green', out.symbol('ok'))} ${capitalize(left)} and ${right} match ${took}`;
  const lines = differences.map((difference) => `  ${difference.message}`);
  return [`${out.paint('red', out.symbol('fail'))} ${plural(differences.length, 'difference')} between ${left} and ${right} ${took}`, ...lines].join('\n');
}

const capitalize = (text: string) => text.charAt(0).toUpperCase() + text.slice(1);

function renderUp(report: UpResult, out: Output): string {
  if (report.dryRun) {
    const lint = report.lint ? [renderLockPlan(report.lint.plan, out), renderFindings(report.lint.findings, out)] : [];
    return [...lint, renderPlan('Would apply', report.plan, out)].filter(Boolean).join('\n\n');
  }
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

const STATE_COLOURS = {
  applied: 'green',
  pending: 'yellow',
  running: 'yellow',
  'rolled-back': 'yellow',
  failed: 'red',
  edited: 'red',
  missing: 'red',
} as const;

function notApplied(report: StatusReport): string {
  return Object.entries(report.counts)
    .filter(([state, count]) => state !== 'applied' && count > 0)
    .map(([state, count]) => `${count} ${state}`)
    .join(', ');
}

/** The first entry up cannot pass on its own names its command; otherwise up is the answer. */
function statusHint(report: StatusReport): string {
  const blocking = report.migrations.find((entry) => BLOCKS_UP.has(entry.state));
  if (blocking) return `${blocking.name} is ${blocking.state}: ${blocking.next} (each one's step is in the list, and in --json as next).`;
  return 'See the list; run todo-db migrate up for pending ones (it waits for a running one to finish).';
}

const BLOCKS_UP = new Set(['failed', 'edited', 'missing']);

function renderStatus(report: StatusReport, out: Output): string {
  if (report.migrations.length === 0) return 'No migrations in the folder and none applied.';
  const width = Math.max(...report.migrations.map((entry) => entry.name.length));
  const rows = report.migrations.map((entry) => {
    const when = entry.state === 'rolled-back' ? entry.rolledBackAt : (entry.finishedAt ?? entry.startedAt);
    const state = out.paint(STATE_COLOURS[entry.state], entry.state.padEnd(11));
    const note =
      entry.state === 'rolled-back' && entry.logs
        ? out.paint('gray', '  (a failed attempt, rolled back)')
        : entry.state === 'running'
          ? out.paint('gray', '  (being applied by another migrator now)')
          : '';
    const row = `  ${entry.name.padEnd(width)}  ${state}  ${when ?? ''}${note}`.trimEnd();
    return BLOCKS_UP.has(entry.state) && entry.next ? `${row}\n  ${' '.repeat(width)}  ${out.paint('gray', entry.next)}` : row;
  });
  const summary = Object.entries(report.counts)
    .filter(([, count]) => count > 0)
    .map(([state, count]) => `${count} ${state}`)
    .join(', ');
  const verdict = report.upToDate ? `${out.paint('green', out.symbol('ok'))} Up to date` : `${out.paint('yellow', out.symbol('warn'))} Not up to date`;
  return `${verdict} (${summary})\n${rows.join('\n')}`;
}
