import type { DraftReport } from '../migrations/draft.js';
import { withInterrupt } from './interrupt.js';
import { diffInputs, migrateCreateCommand, type MigrateFlags } from './migrate.js';
import { plural, type Output } from './output.js';
import { runCommand } from './run.js';

export interface LifecycleFlags extends MigrateFlags {
  fromSchema?: boolean;
}

/** `migrate create <name>`: the empty templates, or with --from-schema a draft from Prisma's engine. */
export function migrateCreate(name: string, flags: LifecycleFlags): Promise<void> {
  if (!flags.fromSchema) return migrateCreateCommand(name, flags);
  // Ctrl-C lets the current step finish so the shadow database is dropped, then exits 130.
  return withInterrupt((signal) =>
    runCommand<DraftReport>({
      name: 'migrate create',
      flags,
      job: async (context) => {
        const inputs = await diffInputs(context, flags, signal);
        const { draftMigrationFromSchema } = await import('../migrations/draft.js');
        return context.out.task("Drafting from schema.prisma with Prisma's schema engine (in a shadow database)", () => draftMigrationFromSchema({ ...inputs, name }));
      },
      render: (report, { out }) => out.print(renderDraft(report, out)),
    }),
  );
}

function renderDraft(report: DraftReport, out: Output): string {
  const lines = [`${out.paint('green', out.symbol('ok'))} Drafted ${report.name} from ${report.schemaPath} ${out.paint('gray', `(${Math.round(report.durationMs / 100) / 10} s)`)}`];
  lines.push(`  ${report.migration.path}`, `  ${report.down.path}`);
  for (const [label, file] of [['migration.sql', report.migration], ['down.sql', report.down]] as const) {
    if (file.noTransaction) lines.push(`${out.paint('yellow', out.symbol('warn'))} ${label} runs outside a transaction (-- todo-db: no-transaction): a value added to an enum is used in the same file.`);
    if (file.destructive.length === 0) continue;
    lines.push(`${out.paint('red', out.symbol('warn'))} ${label} has ${plural(file.destructive.length, 'destructive step')} (listed at the top of the file):`);
    lines.push(...file.destructive.map((step) => `    ${step.statement}\n      ${step.risk}`));
  }
  if (report.affected.length > 0) lines.push(`${out.paint('yellow', out.symbol('warn'))} Not in schema.prisma, on what this change touches (check them by hand):`, ...report.affected.map((line) => `    ${line}`));
  lines.push(...report.lintFindings.map((finding) => `  ${finding}`));
  lines.push(out.paint('gray', 'Review both files, then run todo-db migrate up.'));
  return lines.join('\n');
}
