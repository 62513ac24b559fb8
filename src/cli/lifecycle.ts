import { EXIT, usageError } from '../core/errors.js';
import type { DraftReport } from '../drafts/draft.js';
import type { BaselineReport } from '../history-jobs/baseline.js';
import type { RedoReport } from '../history-jobs/redo.js';
import type { ResetReport } from '../history-jobs/reset.js';
import type { HistoryJobOptions, ResolveReport } from '../history-jobs/resolve.js';
import { renderFindings } from './lint.js';
import { diffInputs, type MigrateFlags, migrateCreateCommand, migrator } from './migrate.js';
import { type Output, plural } from './output.js';
import { type CommandContext, runCommand } from './run.js';

export interface LifecycleFlags extends MigrateFlags {
  fromSchema?: boolean;
  applied?: string;
  rolledBack?: string;
  edited?: string;
  force?: boolean;
}

/** `migrate create <name>`: the empty templates, or with --from-schema a draft from Prisma's engine. */
export function migrateCreate(name: string, flags: LifecycleFlags): Promise<void> {
  if (!flags.fromSchema) return migrateCreateCommand(name, flags);
  return runCommand<DraftReport>({
    name: 'migrate create',
    flags,
    namesTarget: true,
    job: async (context) => {
      const inputs = await diffInputs(context, flags);
      const [{ draftMigrationFromSchema }, { lintFolder }] = await Promise.all([import('../drafts/draft.js'), import('../lint/folder.js')]);
      // The draft is linted as the pending migration it is, with the live tables' sizes.
      const lint = async (drafted: string) =>
        (
          await lintFolder({
            migrationsDir: inputs.migrationsDir,
            names: [drafted],
            all: false,
            database: { url: inputs.url, environment: inputs.environment },
          })
        ).findings;
      return context.out.task("Drafting from schema.prisma with Prisma's schema engine (in a shadow database)", () =>
        draftMigrationFromSchema({ ...inputs, name, lint }),
      );
    },
    render: (report, { out }) => out.print(renderDraft(report, out)),
  });
}

function renderDraft(report: DraftReport, out: Output): string {
  const lines = [
    `${out.paint('green', out.symbol('ok'))} Drafted ${report.name} from ${report.schemaPath} ${out.paint('gray', `(${Math.round(report.durationMs / 100) / 10} s)`)}`,
  ];
  lines.push(`  ${report.migration.path}`, `  ${report.down.path}`);
  for (const [label, file] of [
    ['migration.sql', report.migration],
    ['down.sql', report.down],
  ] as const) {
    if (file.noTransaction)
      lines.push(
        `${out.paint('yellow', out.symbol('warn'))} ${label} runs outside a transaction (-- todo-db: no-transaction): a value added to an enum is used in the same file.`,
      );
    if (file.destructive.length === 0) continue;
    lines.push(`${out.paint('red', out.symbol('warn'))} ${label} has ${plural(file.destructive.length, 'destructive step')} (listed at the top of the file):`);
    lines.push(...file.destructive.map((step) => `    ${step.statement}\n      ${step.risk}`));
  }
  const warn = out.paint('yellow', out.symbol('warn'));
  for (const nulls of report.nulls)
    lines.push(
      `${warn} ${nulls.table}.${nulls.column} is NULL in ${plural(nulls.rows, 'row')} of the target database: migration.sql's SET NOT NULL fails there until they are backfilled (the header drafts the UPDATE).`,
    );
  const check = report.downCheck;
  if (check.failure) lines.push(`${warn} PostgreSQL refused the draft in the shadow database, so down.sql was not checked: ${check.failure}`);
  if (check.restored.length > 0)
    lines.push(
      `${out.paint('green', out.symbol('ok'))} down.sql puts back ${plural(check.restored.length, 'object')} that migration.sql drops with a column or table and schema.prisma does not know (checked in the shadow database).`,
    );
  if (check.dataNotRestored.length > 0)
    lines.push(`${warn} down.sql cannot bring back the data of ${plural(check.dataNotRestored.length, 'step')} of migration.sql (said in its header).`);
  for (const { table, columns } of check.reordered)
    lines.push(`${warn} down.sql puts ${columns.join(', ')} of ${table} back at another position (PostgreSQL adds columns at the end).`);
  for (const what of [...check.notRestored, ...check.leftBehind]) lines.push(`${warn} down.sql does not undo exactly: ${what} (said in its header).`);
  if (report.affected.length > 0)
    lines.push(
      `${out.paint('yellow', out.symbol('warn'))} Not in schema.prisma, on what this change touches (check them by hand):`,
      ...report.affected.map((line) => `    ${line}`),
    );
  if (report.lintFindings.length > 0) lines.push(renderFindings(report.lintFindings, out));
  lines.push(out.paint('gray', 'Review both files, then run todo-db migrate up.'));
  return lines.join('\n');
}

async function historyJobOptions(context: CommandContext, flags: LifecycleFlags): Promise<HistoryJobOptions> {
  return { ...(await diffInputs(context, flags)), lockTimeoutMs: flags.lockTimeout };
}

/** `migrate resolve --applied|--rolled-back <name>` (the history rows Prisma's own resolve writes) or `--edited <name>`. */
export function migrateResolve(flags: LifecycleFlags): Promise<void> {
  return runCommand<ResolveReport>({
    name: 'migrate resolve',
    flags,
    namesTarget: true,
    job: async (context) => {
      if ([flags.applied, flags.rolledBack, flags.edited].filter((name) => name !== undefined).length !== 1) {
        throw usageError(
          'USAGE_ERROR',
          'migrate resolve needs exactly one of --applied <name>, --rolled-back <name> and --edited <name>.',
          'Run todo-db migrate resolve --applied <name> for a change made by hand, --rolled-back <name> for a failed migration you cleaned up, or --edited <name> for an applied migration you changed on purpose.',
        );
      }
      const options = await historyJobOptions(context, flags);
      const { resolveApplied, resolveEdited, resolveRolledBack } = await import('../history-jobs/resolve.js');
      if (flags.applied !== undefined)
        return context.out.task(`Checking the live schema against the migrations up to ${flags.applied}`, () =>
          resolveApplied(options, flags.applied as string, { force: flags.force }),
        );
      if (flags.edited !== undefined)
        return context.out.task(`Checking the live schema against the applied migrations, ${flags.edited} as it reads now`, () =>
          resolveEdited(options, flags.edited as string, { force: flags.force, yes: flags.yes }),
        );
      return resolveRolledBack(options, flags.rolledBack as string);
    },
    render: (report, { out }) => out.print(renderResolve(report, out)),
  });
}

function renderResolve(report: ResolveReport, out: Output): string {
  const ok = out.paint('green', out.symbol('ok'));
  if (report.resolution === 'rolled-back') {
    const lines = [`${ok} Marked ${report.name} rolled back: migrate up will apply it again`];
    if (report.mayRemain) lines.push(`${out.paint('yellow', out.symbol('warn'))} ${report.mayRemain}`);
    return lines.join('\n');
  }
  if (report.resolution === 'edited' && report.checksum) {
    const how = report.verified ? 'the live schema matches the applied migrations as they read now' : 'not checked: --force';
    const { previous, recorded, appliedAt } = report.checksum;
    return [
      `${ok} Recorded the edit of ${report.name} (${how})`,
      `  applied at     ${appliedAt ?? 'unknown'}`,
      `  checksum was   ${previous}`,
      `  checksum now   ${recorded}`,
    ].join('\n');
  }
  const how = report.verified ? 'the live schema matches the migrations up to it' : 'not checked: --force';
  const attempts = report.failedAttemptsRolledBack > 0 ? `; its failed attempt was marked rolled back` : '';
  return `${ok} Recorded ${report.name} as applied (${how}${attempts})`;
}

/** `migrate baseline [--dry-run]`: adopt a database whose schema was built without todo-db. */
export function migrateBaseline(flags: LifecycleFlags): Promise<void> {
  return runCommand<BaselineReport>({
    name: 'migrate baseline',
    flags,
    namesTarget: true,
    job: async (context) => {
      const options = await historyJobOptions(context, flags);
      const { baseline } = await import('../history-jobs/baseline.js');
      return context.out.task('Comparing the live schema with the schema after each migration (in a shadow database)', () =>
        baseline(options, { dryRun: flags.dryRun }),
      );
    },
    render: (report, { out }) => out.print(renderBaseline(report, out)),
    verdict: (report) =>
      report.accountedFor
        ? { exitCode: EXIT.ok, statusCode: 200 }
        : {
            exitCode: EXIT.checkFailed,
            statusCode: 503,
            error: {
              code: 'BASELINE_NO_MATCH',
              message: `The live schema is not what any prefix of the migrations builds (closest: after ${report.closest}, ${plural(report.differences.length, 'difference')}); nothing was recorded.`,
              hint: 'Bring the live schema to what a migration builds (todo-db migrate diff shows the differences), or record one by hand with todo-db migrate resolve --applied <name> --force.',
            },
          },
  });
}

function renderBaseline(report: BaselineReport, out: Output): string {
  if (!report.accountedFor) {
    const lines = report.differences.map((difference) => `  ${difference.message}`);
    return [
      `${out.paint('red', out.symbol('fail'))} No prefix of the migrations builds the live schema; nothing was recorded. Closest: after ${report.closest}, with ${plural(report.differences.length, 'difference')}:`,
      ...lines,
    ].join('\n');
  }
  const verb = report.dryRun ? 'Would record' : 'Recorded';
  const lines = [
    `${out.paint('green', out.symbol('ok'))} ${verb} ${plural(report.recorded.length, 'migration')} as applied${report.dryRun ? ' (dry run; nothing was changed)' : ''}:`,
    ...report.recorded.map((name) => `  ${name}`),
  ];
  if (report.pending.length > 0) lines.push(`Pending (todo-db migrate up applies them): ${report.pending.join(', ')}`);
  return lines.join('\n');
}

export interface ResetFlags extends LifecycleFlags {
  bcryptCost?: number;
  drop?: string[];
}

/** `migrate reset --yes`: development and test only. */
export function migrateReset(flags: ResetFlags): Promise<void> {
  return runCommand<ResetReport>({
    name: 'migrate reset',
    flags,
    namesTarget: true,
    job: async (context) => {
      const options = await historyJobOptions(context, flags);
      const { resetDatabase } = await import('../history-jobs/reset.js');
      const confirm = (question: string) => (flags.yes ? Promise.resolve(true) : askOnTerminal(question));
      // No spinner: the confirmation may ask at the terminal.
      return resetDatabase({ ...options, confirm, passwordHash: context.settings.passwordHash, bcryptCost: flags.bcryptCost, drop: flags.drop });
    },
    render: (report, { out }) => out.print(renderReset(report, out)),
  });
}

/** Only a person at a terminal can say yes; anywhere else the answer is no (and --yes is the way). */
async function askOnTerminal(question: string): Promise<boolean> {
  if (!process.stdin.isTTY) return false;
  const { createInterface } = await import('node:readline/promises');
  const prompt = createInterface({ input: process.stdin, output: process.stderr });
  try {
    return /^y(es)?$/i.test((await prompt.question(`${question} [y/N] `)).trim());
  } finally {
    prompt.close();
  }
}

function renderReset(report: ResetReport, out: Output): string {
  const ok = out.paint('green', out.symbol('ok'));
  const dropped =
    report.dropped.length === 0
      ? ['  (nothing)']
      : report.dropped.map((object) => `  ${object.kind} ${object.name}${object.cascaded ? out.paint('gray', ' (with a dropped table it depended on)') : ''}`);
  const kept =
    report.kept.length === 0
      ? []
      : ['Kept:', ...report.kept.map((line) => `  ${line}`), out.paint('gray', 'To drop one of them too: todo-db migrate reset --drop <name> (repeatable).')];
  return [
    `${ok} Reset schema public: dropped ${plural(report.dropped.length, 'object')}, applied ${plural(report.applied.length, 'migration')}, seeded ${report.seed.users.created + report.seed.tasks.created} row(s)`,
    'Dropped:',
    ...dropped,
    ...kept,
  ].join('\n');
}

/** `migrate redo [--steps n]`: down and up again. */
export function migrateRedo(flags: LifecycleFlags): Promise<void> {
  return runCommand<RedoReport>({
    name: 'migrate redo',
    flags,
    namesTarget: true,
    job: async (context) => {
      const { redo } = await import('../history-jobs/redo.js');
      return redo(await migrator(context, flags), { steps: flags.steps, yes: flags.yes });
    },
    render: (report, { out }) => {
      if (report.rolledBack.length === 0) return out.print(`${out.paint('green', out.symbol('ok'))} Nothing to redo: no migration is applied`);
      const names = report.rolledBack.map((step) => `  ${step.name}`).join('\n');
      out.print(`${out.paint('green', out.symbol('ok'))} Rolled back and applied again ${plural(report.rolledBack.length, 'migration')}:\n${names}`);
    },
  });
}
