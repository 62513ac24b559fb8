import type { ExplainResult } from '../checks/explain.js';
import { type Finding, type IndexInfo, type IndexReport, inspectIndexes } from '../checks/inspect-indexes.js';
import { defaultMigrationsDir } from '../config/package-root.js';
import { parseShadowUrl } from '../config/settings.js';
import { EXIT, usageError } from '../core/errors.js';
import { leftOutLine, type Output } from './output.js';
import { type CommandContext, type GlobalFlags, runCommand, type Verdict } from './run.js';

export interface InspectIndexesFlags extends GlobalFlags {
  table?: string[];
  allTables?: boolean;
  explain?: boolean;
  analyze?: boolean;
  shadowDatabaseUrl?: string;
}

export function inspectIndexesCommand(flags: InspectIndexesFlags): Promise<void> {
  return runCommand({ name: 'inspect-indexes', flags, namesTarget: true, job: (context) => inspect(context, flags), render, verdict });
}

async function inspect({ settings, out, target }: CommandContext, flags: InspectIndexesFlags): Promise<IndexReport> {
  if (flags.allTables && flags.table?.length) {
    throw usageError(
      'USAGE_ERROR',
      '--table and --all-tables cannot be used together.',
      'Give --table <name> for some tables, or --all-tables for every table in schema public.',
    );
  }
  const shadowDatabaseUrl = parseShadowUrl(flags.shadowDatabaseUrl, settings);
  // The direct URL: the shadow database is created next to it, which a transaction-mode pooler cannot do.
  const url = await target('migrations');
  const report = await out.task('Inspecting indexes (building a shadow database from the migrations)', () =>
    inspectIndexes({
      url,
      migrationsDir: settings.migrationsDir ?? defaultMigrationsDir(),
      environment: settings.environment,
      tables: flags.table,
      allTables: flags.allTables,
      explain: flags.explain,
      analyze: flags.analyze,
      shadowDatabaseUrl,
      externalTables: settings.externalTables.names,
      shadowInit: settings.shadowInit,
      log: (line) => out.debug(line),
    }),
  );
  // A warning, not an error: the listing is still useful, and CI should not fail for a missing privilege.
  if (report.comparisonUnavailable)
    out.warn(`Not compared with the migrations: ${report.comparisonUnavailable.reason}\n  ${out.paint('gray', 'hint:')} ${report.comparisonUnavailable.hint}`);
  return report;
}

function verdict(report: IndexReport): Verdict {
  const failing = report.findings.filter((finding) => finding.severity === 'error');
  if (failing.length === 0) return { exitCode: EXIT.ok, statusCode: 200 };
  const names = failing.map((finding) => `${finding.kind} ${finding.name}`).join(', ');
  return {
    exitCode: EXIT.checkFailed,
    statusCode: 503,
    error: {
      code: 'INDEXES_MISSING_OR_INVALID',
      message: `Indexes missing or invalid: ${names}.`,
      hint: 'Run the fix SQL shown for each (in a new migration for missing ones: todo-db migrate create <name>).',
    },
  };
}

function render(report: IndexReport, { out }: CommandContext): void {
  const sections = [renderIndexes(report, out), renderFindings(report, out)];
  if (report.explain) sections.push(renderExplain(report.explain, out));
  sections.push(summary(report, out));
  out.print(sections.filter(Boolean).join('\n\n'));
}

function renderIndexes(report: IndexReport, out: Output): string {
  return report.tables
    .map((table) => {
      const indexes = report.indexes.filter((index) => index.table === table);
      if (indexes.length === 0) return `${out.paint('bold', table)}\n  (no indexes)`;
      const header = ['index', 'columns', 'method', 'kind', 'size', 'scans', 'state'];
      return `${out.paint('bold', table)}\n${grid([header, ...indexes.map(indexRow)], out)}`;
    })
    .join('\n');
}

function indexRow(index: IndexInfo): string[] {
  const kind = index.primary ? 'primary' : index.unique ? 'unique' : '';
  const columns =
    index.columns.join(', ') + (index.include.length ? ` include (${index.include.join(', ')})` : '') + (index.predicate ? ` where ${index.predicate}` : '');
  const state = index.valid ? 'valid' : index.building ? 'building' : index.ready ? 'INVALID' : 'INVALID, not ready';
  return [index.name, columns, index.method, kind, index.size, index.scans === null ? '?' : String(index.scans), state];
}

/** Columns padded to the widest cell; the header in grey. Padding happens before painting, which adds no width. */
function grid(rows: string[][], out: Output): string {
  const widths = rows[0]!.map((_, column) => Math.max(...rows.map((row) => (row[column] ?? '').length)));
  return rows
    .map((row, at) => {
      const line = row
        .map((cell, column) => cell.padEnd(widths[column]!))
        .join('  ')
        .trimEnd();
      return `  ${at === 0 ? out.paint('gray', line) : line}`;
    })
    .join('\n');
}

const SYMBOL_FOR: Record<Finding['severity'], 'fail' | 'warn'> = { error: 'fail', info: 'warn' };

function renderFindings(report: IndexReport, out: Output): string {
  const lines: string[] = [];
  if (report.comparison) lines.push(`Compared with the ${report.comparison.expected.length} indexes the migrations make (shadow database):`);
  else lines.push('Not compared with the migrations (no shadow database); only validity was checked:');
  // Zero scans is common and only informational; one line keeps it from drowning the findings that matter.
  const unused = report.findings.filter((finding) => finding.kind === 'unused');
  for (const finding of report.findings.filter((finding) => finding.kind !== 'unused')) {
    const symbol = out.paint(finding.severity === 'error' ? 'red' : 'yellow', out.symbol(SYMBOL_FOR[finding.severity]));
    lines.push(`${symbol} ${finding.kind}: ${finding.reason}`);
    if (finding.fix) lines.push(...finding.fix.split('\n').map((sql) => `    ${out.paint('gray', 'fix:')} ${sql}`));
  }
  if (unused.length > 0)
    lines.push(
      `${out.paint('gray', '-')} unused (no scans since ${report.statsReset ? `the statistics were reset at ${report.statsReset}` : 'the statistics began'}; unique and primary excluded): ${unused.map((finding) => finding.name).join(', ')}`,
    );
  if (lines.length === 1) lines.push(`${out.paint('green', out.symbol('ok'))} nothing to report`);
  return lines.join('\n');
}

function renderExplain(results: ExplainResult[], out: Output): string {
  const analyzed = results.some((result) => result.actualTimeMs !== null);
  const source = results[0]?.parameterSource === 'database' ? 'values from the user with the most tasks' : 'synthetic values (no rows yet)';
  const header = ['query', 'plan uses', 'est. cost', ...(analyzed ? ['actual'] : [])];
  const rows = results.map((result) => [
    result.description,
    result.uses,
    result.totalCost.toFixed(2),
    ...(analyzed ? [`${result.actualTimeMs?.toFixed(3) ?? '?'} ms`] : []),
  ]);
  return `Canonical queries (EXPLAIN${analyzed ? ' ANALYZE' : ''}, ${source}):\n${grid([header, ...rows], out)}`;
}

function summary(report: IndexReport, out: Output): string {
  const count = (kind: Finding['kind']) => report.findings.filter((finding) => finding.kind === kind).length;
  const failing = count('missing') + count('invalid');
  const counts = (['missing', 'invalid', 'unexpected', 'duplicate', 'redundant', 'unindexed-foreign-key'] as const)
    .map((kind) => `${count(kind)} ${kind}`)
    .join(', ');
  const symbol = failing > 0 ? out.paint('red', out.symbol('fail')) : out.paint('green', out.symbol('ok'));
  const leftOut = report.leftOut.length > 0 ? `\n${out.paint('gray', `${leftOutLine(report.leftOut)}: their indexes are listed, not compared.`)}` : '';
  return `${symbol} ${report.indexes.length} indexes on ${report.tables.join(', ')}: ${counts}${leftOut}`;
}
