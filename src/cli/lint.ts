import { defaultMigrationsDir } from '../config/package-root.js';
import { EXIT } from '../core/errors.js';
import type { FolderLintReport } from '../lint/folder.js';
import type { Finding, LintReport } from '../lint/lint.js';
import type { PlannedLock } from '../lint/lock-plans.js';
import { EFFECT_VERB } from '../lint/effect.js';
import type { StatementPlan } from '../lint/plan-steps.js';
import { formatBytes, formatRows } from '../lint/size.js';
import { type Output, plural } from './output.js';
import { type GlobalFlags, runCommand } from './run.js';

export interface LintFlags extends GlobalFlags {
  all?: boolean;
  offline?: boolean;
  maxBlockingRows?: number;
}

export function migrateLintCommand(names: string[], flags: LintFlags): Promise<void> {
  return runCommand<FolderLintReport>({
    name: 'migrate lint',
    flags,
    job: async ({ settings, target }) => {
      const database = flags.offline ? undefined : { url: await target('migrations'), environment: settings.environment };
      const { lintFolder } = await import('../lint/folder.js');
      return lintFolder({
        migrationsDir: settings.migrationsDir ?? defaultMigrationsDir(),
        names,
        all: flags.all === true,
        maxBlockingRows: flags.maxBlockingRows,
        database,
      });
    },
    render: (report, { out }) => out.print(renderLintReport(report, out)),
    verdict: (report) =>
      report.errors === 0 ? { exitCode: EXIT.ok, statusCode: 200 } : { exitCode: EXIT.checkFailed, statusCode: 503, error: lintFailed(report) },
  });
}

function lintFailed(report: LintReport) {
  return {
    code: 'LINT_FAILED',
    message: `migrate lint found ${plural(report.errors, 'error')} in the migrations.`,
    hint: 'Rewrite each statement as its fix says, or, where it is safe, put -- todo-db-lint: allow <rule> -- <reason> on the line before it.',
  };
}

const SELECTIONS = { named: 'the named migrations', all: 'every migration', pending: 'the pending migrations' } as const;

function renderLintReport(report: FolderLintReport, out: Output): string {
  const what = `${SELECTIONS[report.selection]} (${plural(report.migrations.length, 'migration')})`;
  const mode = report.offline ? out.paint('gray', ` offline: static rules only, no lock sizes, lock plans for PostgreSQL ${report.planFor.version}`) : '';
  const sections = [renderFindings(report.findings, out)];
  if (!report.offline) sections.push(renderLockPlan(report.plan, out));
  sections.push(`${summary(report, out)} in ${what}${mode}`);
  return sections.filter(Boolean).join('\n\n');
}

function summary(report: LintReport, out: Output): string {
  const counts = [plural(report.errors, 'error'), plural(report.warnings, 'warning'), ...(report.allowed > 0 ? [`${report.allowed} allowed`] : [])].join(', ');
  if (report.errors > 0) return `${out.paint('red', out.symbol('fail'))} ${counts}`;
  return `${out.paint(report.warnings > 0 ? 'yellow' : 'green', report.warnings > 0 ? out.symbol('warn') : out.symbol('ok'))} ${counts}`;
}

/** One block per finding: where, which rule, the statement, what is wrong, and the safe way. Allowed ones are one line. */
export function renderFindings(findings: Finding[], out: Output): string {
  return findings
    .map((finding) => {
      const head = `${finding.location}  ${finding.rule}`;
      if (finding.allowed) return out.paint('gray', `${head}  allowed: ${finding.allowReason}`);
      const severity = finding.severity === 'error' ? out.paint('red', 'error') : out.paint('yellow', 'warning');
      return [
        `${head}  ${severity}`,
        `  ${finding.statement}`,
        `  ${finding.message}`,
        `  ${out.paint('gray', 'why:')} ${finding.why}`,
        `  ${out.paint('gray', 'fix:')} ${finding.fix}`,
        ...(finding.sql ? [indent(finding.sql)] : []),
      ].join('\n');
    })
    .join('\n\n');
}

const indent = (sql: string) =>
  sql
    .split('\n')
    .map((line) => `      ${line}`)
    .join('\n');

/** Beyond this many migrations with findings, the command to list them names none of them. */
const NAMED_IN_SUMMARY = 5;

/**
 * migrate up outside production (or with --allow-lint-errors): one line however many migrations it applies, with
 * the open findings counted by rule and the command that lists them; --json has every finding in data.lint.
 */
export function warnLintSummary(report: LintReport, out: Output): void {
  const open = report.findings.filter((finding) => !finding.allowed);
  if (open.length === 0) return;
  const byRule = new Map<string, number>();
  for (const { rule, severity } of open) {
    const key = severity === 'error' ? `${rule} (error)` : rule;
    byRule.set(key, (byRule.get(key) ?? 0) + 1);
  }
  const rules = [...byRule].sort(([a, x], [b, y]) => y - x || a.localeCompare(b)).map(([rule, count]) => `${rule} ${count}`);
  const migrations = [...new Set(open.map((finding) => finding.migration))];
  const command = migrations.length <= NAMED_IN_SUMMARY ? `todo-db migrate lint ${migrations.join(' ')}` : 'todo-db migrate lint --all';
  out.warn(
    `The lint found ${plural(report.errors, 'error')} and ${plural(report.warnings, 'warning')} in ${migrations.length} of the ${plural(report.migrations.length, 'pending migration')} (${rules.join(', ')}); ${command} lists them.`,
  );
}

/** The lock each statement takes, on which table, whether it rewrites or scans, and the table's live size. */
export function renderLockPlan(plan: StatementPlan[], out: Output): string {
  if (plan.length === 0) return '';
  const lines = plan.flatMap((step) => [
    `  ${step.location}  ${step.statement}`,
    ...step.locks.map((lock) => `      ${describeLock(lock, out)}`),
    ...sameLocks(step),
  ]);
  return `Locks (estimated rows and size from the live database):\n${lines.join('\n')}`;
}

function sameLocks({ sameLocks }: StatementPlan): string[] {
  return sameLocks ? [`      and ${plural(sameLocks.more, 'more statement')} with these same locks, the last at ${sameLocks.lastLocation}`] : [];
}

function describeLock(lock: PlannedLock, out: Output): string {
  const blocks = lock.blocksReads ? 'blocks reads and writes' : lock.blocksWrites ? 'blocks writes' : 'reads and writes go on';
  const effect =
    lock.effect === 'none'
      ? 'no rewrite or scan'
      : `${EFFECT_VERB[lock.effect]} ${lock.kind === 'table' ? 'the table' : 'it'}${lock.because ? ` (${lock.because})` : ''}`;
  const size = lock.newTable
    ? 'created in this run'
    : lock.kind === 'index'
      ? "its table's reads wait on it when it blocks reads"
      : lock.bytes === null
        ? 'not in the database'
        : `${lock.rows === null ? 'rows unknown (never analyzed)' : `~${formatRows(lock.rows)} rows`}, ${formatBytes(lock.bytes)}`;
  const held = lock.heldFromEarlier ? ` (${lock.heldFromEarlier} held since an earlier statement of this transaction)` : '';
  const relation = lock.kind === 'table' ? lock.table : `${lock.kind} ${lock.table}${lock.of ? ` (of ${lock.of})` : ''}`;
  const text = `${lock.lock} on ${relation}${held}: ${blocks}; ${effect}; ${size}`;
  return lock.blocksWrites && lock.effect !== 'none' && !lock.newTable ? out.paint('yellow', text) : text;
}
