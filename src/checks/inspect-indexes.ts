import pg from 'pg';
import { TodoDbError, usageError } from '../core/errors.js';
import { withConnection } from '../db/connect.js';
import { type IndexDetails, readIndexes, readTableNames } from '../schema/catalog-reader.js';
import { type ShadowOptions, withShadowDatabase } from '../shadow/shadow-database.js';
import { type ExplainResult, explainCanonicalQueries } from './explain.js';

/** The tables the app itself queries: the default selection. */
const APP_TABLES = ['tasks', 'user', 'session', 'account', 'verification', 'jwks'] as const;
/** Prisma's history table belongs to the migration tooling, not to the app. */
const HISTORY_TABLE = '_prisma_migrations';

export interface InspectIndexesOptions extends ShadowOptions {
  /** Names as the user typed them; each must be a table in schema public. Default: APP_TABLES. */
  tables?: string[];
  allTables?: boolean;
  explain?: boolean;
  analyze?: boolean;
  /** Tables other tools manage: their indexes are listed, never compared or judged; the shadow gets their definitions first. */
  externalTables?: string[];
}

/** An index as the report lists it. */
export type IndexInfo = Omit<IndexDetails, 'shape' | 'constraintDefinition'>;

export type FindingKind = 'missing' | 'invalid' | 'building' | 'unexpected' | 'duplicate' | 'redundant' | 'unused' | 'unindexed-foreign-key';

export interface Finding {
  kind: FindingKind;
  /** error: exits 1. info: worth knowing, never fails the command. */
  severity: 'error' | 'info';
  table: string;
  /** The index (or, for an unindexed foreign key, the constraint) the finding is about. */
  name: string;
  reason: string;
  fix: string | null;
}

export interface IndexReport {
  tables: string[];
  /** When the scan counters were last reset; null means never, so they count since the server's statistics began. */
  statsReset: string | null;
  indexes: IndexInfo[];
  /** What the migrations expect, from a shadow database; null when no shadow database could be made. */
  comparison: { expected: string[]; migrationsDir: string } | null;
  /** Why there is no comparison. */
  comparisonUnavailable: { code: string; reason: string; hint: string } | null;
  findings: Finding[];
  explain: ExplainResult[] | null;
  /** The inspected tables that other tools manage: listed above, left out of the comparison and the findings. */
  leftOut: string[];
}

/**
 * Lists the indexes of the chosen tables and compares them with a shadow database built from the migrations.
 * The live reads and the shadow build run side by side: the shadow is most of the time.
 */
export async function inspectIndexes(options: InspectIndexesOptions): Promise<IndexReport> {
  const { environment } = options;
  return withConnection(options.url, { environment, applicationName: 'todo-db inspect-indexes' }, async (client) => {
    const liveTables = await readTableNames(client);
    const selection = selectTables(options, liveTables);
    const [expected, live] = await Promise.all([expectedIndexes(options, selection), readLive(client, selection, options)]);
    const tables = selection ?? [...new Set([...liveTables, ...(expected.indexes?.map((index) => index.table) ?? [])])].sort();
    const external = new Set(options.externalTables ?? []);
    const ours = live.indexes.filter((index) => !external.has(index.table));
    const comparison = expected.indexes ? compare(ours, expected.indexes, liveTables) : invalidOnly(ours);
    const expectedNames = new Set(expected.indexes?.map((index) => index.name));
    const foreignKeys = live.unindexedForeignKeys.filter((finding) => !external.has(finding.table));
    const findings = [...comparison, ...duplicates(ours, expectedNames), ...redundant(ours), ...unused(ours), ...foreignKeys];
    return {
      tables,
      statsReset: live.statsReset,
      indexes: live.indexes.map(({ shape, constraintDefinition, ...index }) => index),
      comparison: expected.indexes ? { expected: expected.indexes.map((index) => index.name), migrationsDir: options.migrationsDir } : null,
      comparisonUnavailable: expected.unavailable ?? null,
      findings: sortFindings(findings),
      explain: live.explain,
      leftOut: tables.filter((table) => external.has(table) && liveTables.includes(table)),
    };
  });
}

/** Failing findings first, then in a stable order, so CI logs show the reason for exit 1 at the top. */
function sortFindings(findings: Finding[]): Finding[] {
  const rank = (finding: Finding) => (finding.severity === 'error' ? 0 : 1);
  return findings.sort((a, b) => rank(a) - rank(b) || a.table.localeCompare(b.table) || a.kind.localeCompare(b.kind) || a.name.localeCompare(b.name));
}

/**
 * The table names to inspect, or undefined for every table. A --table value is only ever compared with the
 * catalog's names, never put into SQL, so `tasks; drop table users` is just a name that does not exist.
 */
function selectTables(options: InspectIndexesOptions, liveTables: string[]): string[] | undefined {
  if (options.allTables) return undefined;
  if (!options.tables?.length) return [...APP_TABLES].sort();
  const unknown = options.tables.filter((name) => !liveTables.includes(name));
  if (unknown.length > 0) {
    const known = liveTables.length > 0 ? `Tables in schema public: ${liveTables.join(', ')}.` : 'Schema public has no tables yet; run todo-db migrate up.';
    throw usageError(
      'TABLE_NOT_FOUND',
      `No table named ${unknown.map((name) => JSON.stringify(name)).join(', ')} in schema public of ${options.url.database}.`,
      known,
    );
  }
  return [...new Set(options.tables)].sort();
}

interface Expected {
  indexes?: IndexDetails[];
  unavailable?: IndexReport['comparisonUnavailable'];
}

/** The indexes the migrations make, read from a shadow database; without one (no CREATEDB), the reason why. */
async function expectedIndexes(options: InspectIndexesOptions, selection: string[] | undefined): Promise<Expected> {
  const { url, migrationsDir, environment, shadowDatabaseUrl, externalTables = [], shadowInit, log } = options;
  try {
    const indexes = await withShadowDatabase({ url, migrationsDir, environment, shadowDatabaseUrl, externalTables, shadowInit, log }, (shadowUrl) =>
      withConnection(shadowUrl, { environment, applicationName: 'todo-db inspect-indexes (shadow)' }, (client) => readIndexes(client, selection)),
    );
    // The external tables' indexes were copied from the live database: not something the migrations expect.
    return { indexes: indexes.filter((index) => !externalTables.includes(index.table)) };
  } catch (error) {
    if (!(error instanceof TodoDbError) || error.code !== 'SHADOW_DATABASE_UNAVAILABLE') throw error;
    return { unavailable: { code: error.code, reason: error.message, hint: error.hint } };
  }
}

interface Live {
  indexes: IndexDetails[];
  statsReset: string | null;
  unindexedForeignKeys: Finding[];
  explain: ExplainResult[] | null;
}

/** One connection, so these run one after another; together they are still faster than the shadow build. */
async function readLive(client: pg.Client, selection: string[] | undefined, options: InspectIndexesOptions): Promise<Live> {
  const indexes = await readIndexes(client, selection);
  const unindexedForeignKeys = await readUnindexedForeignKeys(client, selection);
  const { rows } = await client.query<{ reset: Date | null }>('select stats_reset as reset from pg_stat_database where datname = current_database()');
  const explain = options.explain || options.analyze ? await explainCanonicalQueries(client, { analyze: options.analyze === true }) : null;
  return { indexes, unindexedForeignKeys, statsReset: rows[0]?.reset?.toISOString() ?? null, explain };
}

/** Missing, invalid and unexpected, matching by name first and then by definition (a renamed index). */
function compare(live: IndexDetails[], expected: IndexDetails[], liveTables: string[]): Finding[] {
  const findings: Finding[] = [];
  const liveByName = new Map(live.map((index) => [index.name, index]));
  const expectedNames = new Set(expected.map((index) => index.name));
  const renamed = new Set<string>();
  for (const want of expected) {
    if (!liveTables.includes(want.table)) {
      findings.push(
        finding(
          'missing',
          'error',
          want,
          `${want.name} is expected, but its table ${want.table} does not exist: the migrations have not been applied here (todo-db migrate status).`,
          null,
        ),
      );
      continue;
    }
    const have = liveByName.get(want.name);
    if (have && have.shape === want.shape) {
      if (!have.valid) findings.push(invalid(have, true));
      continue;
    }
    const twin = live.find((index) => !expectedNames.has(index.name) && !renamed.has(index.name) && index.shape === want.shape && index.table === want.table);
    if (twin) renamed.add(twin.name);
    findings.push(missing(want, have, twin));
  }
  for (const index of live) {
    if (expectedNames.has(index.name) || renamed.has(index.name)) continue;
    if (!index.valid) findings.push(invalid(index, false));
    else
      findings.push(
        finding('unexpected', 'info', index, `${index.name} is not made by any migration (added by hand, or by a migration missing from this folder).`, null),
      );
  }
  return findings;
}

/** Without a shadow database only validity can be judged. */
function invalidOnly(live: IndexInfo[]): Finding[] {
  return live.filter((index) => !index.valid).map((index) => invalid(index, false));
}

function missing(want: IndexDetails, have: IndexDetails | undefined, twin: IndexDetails | undefined): Finding {
  const create = createStatement(want);
  if (have) {
    return finding(
      'missing',
      'error',
      want,
      `${want.name} exists but not as the migrations define it: it is "${have.definition}", expected "${want.definition}".`,
      `${dropStatement(have)}\n${create}`,
    );
  }
  if (twin) {
    return finding(
      'missing',
      'error',
      want,
      `${want.name} is absent, but ${twin.name} has the same definition: it was renamed.`,
      `ALTER INDEX ${qualified(twin.name)} RENAME TO ${pg.escapeIdentifier(want.name)};`,
    );
  }
  return finding('missing', 'error', want, `${want.name} is expected by the migrations but absent.`, create);
}

/**
 * An invalid index is maintained on every write but never used by a query: usually a CREATE INDEX CONCURRENTLY
 * that failed. One being built right now is not invalid yet, only unfinished.
 */
function invalid(index: IndexInfo, expected: boolean): Finding {
  if (index.building)
    return finding(
      'building',
      'info',
      index,
      `${index.name} is being built right now (CREATE INDEX CONCURRENTLY in progress); queries cannot use it yet.`,
      null,
    );
  const why = index.unique ? ' A unique index fails to build when duplicate values exist: remove the duplicates first.' : '';
  if (!expected) {
    return finding(
      'invalid',
      'error',
      index,
      `${index.name} is invalid (a failed CREATE INDEX CONCURRENTLY?): writes still maintain it, no query uses it, and no migration makes it.${why}`,
      `DROP INDEX CONCURRENTLY ${qualified(index.name)};`,
    );
  }
  return finding(
    'invalid',
    'error',
    index,
    `${index.name} is invalid (a failed CREATE INDEX CONCURRENTLY or REINDEX?): writes still maintain it and no query uses it.${why}`,
    `REINDEX INDEX CONCURRENTLY ${qualified(index.name)};`,
  );
}

/**
 * Same table, method, key columns (with their order) and predicate: one of the two only costs writes and space.
 * The one to keep enforces a rule (unique, primary) or is made by the migrations.
 */
function duplicates(indexes: IndexInfo[], expectedNames: Set<string>): Finding[] {
  const worth = (index: IndexInfo) => (index.primary || index.unique ? 2 : 0) + (expectedNames.has(index.name) ? 1 : 0);
  const findings: Finding[] = [];
  const key = (index: IndexInfo) => JSON.stringify([index.table, index.method, index.columns, index.predicate]);
  indexes.forEach((index, at) => {
    const earlier = indexes.slice(0, at).find((other) => other.valid && index.valid && key(other) === key(index));
    if (!earlier) return;
    const keep = worth(index) > worth(earlier) ? index : earlier;
    const drop = keep === earlier ? index : earlier;
    const reason = `${index.name} and ${earlier.name} index the same columns of ${index.table} (${index.columns.join(', ')}) with ${index.method}; ${drop.name} is redundant.`;
    findings.push(finding('duplicate', 'info', index, reason, drop.constraint ? null : `DROP INDEX CONCURRENTLY ${qualified(drop.name)};`));
  });
  return findings;
}

/**
 * An index whose key columns lead another index on the same table, with the same method and predicate: the
 * longer index serves every lookup the shorter one does (tasks_user_id_idx inside (user_id, status)), so the
 * shorter only costs writes and space. A unique or primary index enforces a rule and is never redundant.
 */
function redundant(indexes: IndexInfo[]): Finding[] {
  const findings: Finding[] = [];
  const startsWith = (long: string[], short: string[]) => long.length > short.length && short.every((column, at) => long[at] === column);
  for (const index of indexes.filter((candidate) => candidate.valid && !candidate.unique && !candidate.primary)) {
    const covering = indexes.filter(
      (other) =>
        other.valid &&
        other.table === index.table &&
        other.method === index.method &&
        other.predicate === index.predicate &&
        startsWith(other.columns, index.columns),
    );
    if (covering.length === 0) continue;
    const names = covering.map((other) => `${other.name} (${other.columns.join(', ')})`).join(' and ');
    const reason = `${index.name} (${index.columns.join(', ')}) is a leading prefix of ${names} on ${index.table} with ${index.method}: ${covering.length === 1 ? 'that index serves' : 'those indexes serve'} its lookups, so ${index.name} is redundant (drop it in a migration if nothing needs it on its own).`;
    findings.push(finding('redundant', 'info', index, reason, `DROP INDEX CONCURRENTLY ${qualified(index.name)};`));
  }
  return findings;
}

/** Unique and primary indexes enforce rules, so they earn their keep with no scans at all. */
function unused(indexes: IndexInfo[]): Finding[] {
  return indexes
    .filter((index) => index.scans === 0 && index.valid && !index.unique && !index.primary)
    .map((index) => finding('unused', 'info', index, `${index.name} has not been scanned since the statistics were last reset.`, null));
}

const UNINDEXED_FOREIGN_KEYS_SQL = `
  select t.relname as "table", co.conname as name, co.confrelid::regclass::text as "references",
         array(select a.attname::text from unnest(co.conkey) with ordinality k(attnum, ord)
                 join pg_attribute a on a.attrelid = co.conrelid and a.attnum = k.attnum order by k.ord) as columns
    from pg_constraint co
    join pg_class t on t.oid = co.conrelid
    join pg_namespace n on n.oid = t.relnamespace
   where co.contype = 'f' and n.nspname = 'public'
     and (case when $1::text[] is null then t.relname <> $2 else t.relname = any($1::text[]) end)
     and not exists (
       select 1 from pg_index i
        where i.indrelid = co.conrelid and i.indisvalid and i.indpred is null
          and i.indnkeyatts >= cardinality(co.conkey)
          and (select array_agg(x order by x) from unnest(co.conkey) x)
            = (select array_agg(i.indkey[k] order by i.indkey[k]) from generate_series(0, cardinality(co.conkey) - 1) k))
   order by 1, 2`;

/**
 * A foreign key whose referencing columns lead no index makes every delete or key update of the referenced
 * row scan the whole referencing table (ON DELETE CASCADE included).
 */
async function readUnindexedForeignKeys(client: pg.Client, selection: string[] | undefined): Promise<Finding[]> {
  const { rows } = await client.query<{ table: string; name: string; references: string; columns: string[] }>(UNINDEXED_FOREIGN_KEYS_SQL, [
    selection ?? null,
    HISTORY_TABLE,
  ]);
  return rows.map((row) => ({
    kind: 'unindexed-foreign-key',
    severity: 'info',
    table: row.table,
    name: row.name,
    reason: `${row.name} (${row.columns.join(', ')} → ${row.references}) has no index leading with its columns: deleting or changing a ${row.references} row scans all of ${row.table}.`,
    fix: `CREATE INDEX CONCURRENTLY ${pg.escapeIdentifier(`${row.table}_${row.columns.join('_')}_idx`)} ON ${qualified(row.table)} (${row.columns.map((column) => pg.escapeIdentifier(column)).join(', ')});`,
  }));
}

function createStatement(index: IndexDetails): string {
  if (index.constraint && index.constraintDefinition)
    return `ALTER TABLE ${qualified(index.table)} ADD CONSTRAINT ${pg.escapeIdentifier(index.constraint)} ${index.constraintDefinition};`;
  return `${index.definition};`;
}

function dropStatement(index: IndexInfo): string {
  if (index.constraint) return `ALTER TABLE ${qualified(index.table)} DROP CONSTRAINT ${pg.escapeIdentifier(index.constraint)};`;
  return `DROP INDEX ${qualified(index.name)};`;
}

function finding(kind: FindingKind, severity: Finding['severity'], index: IndexInfo, reason: string, fix: string | null): Finding {
  return { kind, severity, table: index.table, name: index.name, reason, fix };
}

/** Always quoted: a catalog name may be a keyword ("order") or hold any character. */
function qualified(name: string): string {
  return `public.${pg.escapeIdentifier(name)}`;
}
