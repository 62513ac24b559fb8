import type pg from 'pg';
import type { Environment } from '../config/settings.js';
import { TodoDbError } from '../core/errors.js';
import type { Migration } from '../migrations/folder.js';
import { type LintReport, lintMigrations } from './lint.js';

/**
 * `migrate up`'s lint of what it is about to apply (migration.sql only, with the live sizes from its own
 * connection). In production an error stops it before anything runs unless the user accepted them.
 */
export interface GateOptions {
  environment: Environment;
  allowLintErrors: boolean;
  dryRun: boolean;
  maxBlockingRows?: number;
}

export async function lintBeforeUp(pending: Migration[], client: pg.Client, options: GateOptions): Promise<LintReport> {
  const report = await lintMigrations(
    pending.map((migration) => ({ migration, pending: true })),
    { db: client, files: ['migration.sql'], maxBlockingRows: options.maxBlockingRows },
  );
  if (report.errors === 0 || options.environment !== 'production' || options.allowLintErrors || options.dryRun) return report;
  const lines = report.findings
    .filter((finding) => !finding.allowed && finding.severity === 'error')
    .map((finding) => `  ${finding.location}  ${finding.rule}: ${finding.message}`);
  throw new TodoDbError({
    code: 'LINT_FAILED',
    message: `migrate up refused in production: the lint found ${report.errors === 1 ? '1 error' : `${report.errors} errors`} in what it would apply; nothing was applied.\n${lines.join('\n')}`,
    hint: 'Run todo-db migrate lint for the details and the safe way to write each statement; allow a finding with -- todo-db-lint: allow <rule> -- <reason>, or pass --allow-lint-errors if you accept them.',
  });
}
