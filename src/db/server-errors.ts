import pg from 'pg';
import { type DatabaseUrl, describeTarget, hostAndPort } from '../config/database-url.js';
import { redact } from '../config/redact.js';
import type { Environment } from '../config/settings.js';
import { TodoDbError } from '../core/errors.js';
import { withConnection } from './connect.js';
import { isSqlState } from './sqlstate.js';

/**
 * Errors PostgreSQL raises while a command works that a person can fix: a missing privilege (42501), a
 * statement or user cancellation (57014), a read-only transaction or standby (25006), exhausted resources
 * (class 53). Each becomes its own code with a hint. Where the fix depends on the server's state (which
 * privilege the role lacks, where statement_timeout was set), one short lookup as the same role asks it.
 */
export interface ServerErrorContext {
  url: DatabaseUrl;
  environment: Environment;
}

interface PgErrorShape {
  code: string;
  message: string;
}

/** The SQLSTATE of a pg error, or of the pg error a TodoDbError or driver adapter wrapped. */
export function sqlState(error: unknown): PgErrorShape | undefined {
  for (let current = error, depth = 0; current instanceof Error && depth < 4; current = current.cause, depth++) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string' && isSqlState(code)) return { code, message: current.message };
    const original = (current as { originalCode?: unknown }).originalCode;
    if (typeof original === 'string' && isSqlState(original)) return { code: original, message: current.message };
  }
  return undefined;
}

const HANDLED_CLASSES = ['42501', '57014', '25006'];

function hasOwnCode(state: PgErrorShape): boolean {
  return HANDLED_CLASSES.includes(state.code) || state.code.startsWith('53');
}

export async function explainServerError(error: unknown, context: ServerErrorContext | undefined): Promise<TodoDbError | undefined> {
  const state = sqlState(error);
  if (!state) return undefined;
  if (!hasOwnCode(state)) return otherServerError(state, context);
  const where = context ? describeTarget(context.url) : 'the database';
  const role = context?.url.user ?? 'the role';
  const said = redact(state.message);
  const fail = (code: string, message: string, hint: string) => new TodoDbError({ code, message, hint, cause: error });

  if (state.code === '42501') return permissionDenied(said, where, role, context, fail);
  if (state.code === '57014') return canceled(said, where, role, context, fail);
  if (state.code === '25006') return readOnly(said, where, role, context, fail);
  const server = context ? hostAndPort(context.url) : 'the server';
  if (state.code === '53100') {
    return fail(
      'DISK_FULL',
      `The server at ${server} is out of disk space: ${said}.`,
      'Free disk space on the server (or raise the storage limit of the Neon project), then run the command again: the failed transaction changed nothing.',
    );
  }
  if (state.code === '53300') {
    return fail(
      'TOO_MANY_CONNECTIONS',
      `The server at ${server} has no free connection slots: ${said}.`,
      'Close idle clients, use the pooled host for the app, or raise max_connections; then run the command again.',
    );
  }
  if (state.code === '53200') {
    return fail(
      'OUT_OF_MEMORY',
      `The server at ${server} ran out of memory: ${said}.`,
      'Retry when the server is less busy, or lower work_mem / raise the compute size.',
    );
  }
  if (state.code === '53400') {
    return fail(
      'CONFIGURATION_LIMIT_EXCEEDED',
      `The server at ${server} hit a configured limit: ${said}.`,
      'Raise the limit PostgreSQL names (e.g. max_locks_per_transaction), or split the work into smaller transactions.',
    );
  }
  return fail(
    'INSUFFICIENT_RESOURCES',
    `The server at ${server} is out of resources (SQLSTATE ${state.code}): ${said}.`,
    'Check the server (disk, memory, connection limits) and run the command again.',
  );
}

/** Anything else PostgreSQL said is still PostgreSQL's verdict, not a bug: its words and SQLSTATE, never INTERNAL_ERROR. */
function otherServerError(state: PgErrorShape, context: ServerErrorContext | undefined): TodoDbError | undefined {
  // A lost connection (class 08, 57P0x) has its own explanation (CONNECTION_LOST).
  if (state.code.startsWith('08') || state.code.startsWith('57P')) return undefined;
  const where = context ? describeTarget(context.url) : 'the database';
  return new TodoDbError({
    code: 'DATABASE_ERROR',
    message: `${where} refused the operation: ${redact(state.message)} (SQLSTATE ${state.code}).`,
    hint: 'Run again with --verbose to see the step; if the schema was changed by hand, compare it with todo-db migrate diff.',
    facts: { sqlstate: state.code },
  });
}

type Fail = (code: string, message: string, hint: string) => TodoDbError;

/** "permission denied for table users": which object, which of the privileges todo-db needs are missing, and the GRANT. */
async function permissionDenied(said: string, where: string, role: string, context: ServerErrorContext | undefined, fail: Fail): Promise<TodoDbError> {
  const match = /permission denied for (table|relation|schema|sequence|view|function|database) "?([^"\s]+)"?/i.exec(said);
  const kind = (match?.[1] ?? 'object').toLowerCase().replace('relation', 'table');
  const object = match?.[2] ?? 'an object';
  const missing = match && context ? await missingPrivileges(context, kind, object).catch(() => []) : [];
  const privileges = missing.length > 0 ? missing.join(', ') : (PRIVILEGES[kind]?.join(' or ') ?? 'the needed privilege');
  const grant = `GRANT ${missing.length > 0 ? missing.join(', ') : (PRIVILEGES[kind]?.[0] ?? 'ALL')} ON ${kind === 'object' ? '<object>' : `${kind.toUpperCase()} ${pg.escapeIdentifier(object)}`} TO ${pg.escapeIdentifier(role)};`;
  return fail(
    'PERMISSION_DENIED',
    `Role "${role}" lacks ${privileges} on ${kind} ${object} in ${where} (PostgreSQL: ${said}).`,
    `As the owner of ${object} (or a superuser), run: ${grant} Or use a role that has it.`,
  );
}

const PRIVILEGES: Record<string, string[]> = {
  table: ['SELECT', 'INSERT', 'UPDATE', 'DELETE'],
  view: ['SELECT'],
  sequence: ['USAGE', 'SELECT', 'UPDATE'],
  schema: ['CREATE', 'USAGE'],
  function: ['EXECUTE'],
  database: ['CONNECT', 'CREATE', 'TEMPORARY'],
};

const CHECKS: Record<string, string> = {
  table: 'has_table_privilege',
  view: 'has_table_privilege',
  sequence: 'has_sequence_privilege',
  schema: 'has_schema_privilege',
  function: 'has_function_privilege',
  database: 'has_database_privilege',
};

async function missingPrivileges(context: ServerErrorContext, kind: string, object: string): Promise<string[]> {
  const check = CHECKS[kind];
  const privileges = PRIVILEGES[kind];
  if (!check || !privileges) return [];
  return lookup(context, async (client) => {
    const { rows } = await client.query<{ privilege: string }>(`select p as privilege from unnest($2::text[]) p where not ${check}(current_user, $1, p)`, [
      kind === 'schema' || kind === 'database' ? object : pg.escapeIdentifier(object),
      privileges,
    ]);
    return rows.map((row) => row.privilege);
  });
}

/** A statement timeout names the setting and where it was set (role, database, server, session). */
async function canceled(said: string, where: string, role: string, context: ServerErrorContext | undefined, fail: Fail): Promise<TodoDbError> {
  if (!/statement timeout/i.test(said)) {
    return fail(
      'QUERY_CANCELED',
      `A statement in ${where} was canceled: ${said}.`,
      'Someone canceled it (pg_cancel_backend, an operator, a pooler); run the command again.',
    );
  }
  const setting = context ? await settingSource(context, 'statement_timeout').catch(() => undefined) : undefined;
  const value = setting ? ` (statement_timeout = ${setting.value}, ${setting.from})` : '';
  const failure = fail(
    'STATEMENT_TIMEOUT',
    `A statement in ${where} ran longer than statement_timeout allows${value}, so PostgreSQL canceled it and the transaction changed nothing.`,
    setting?.source === 'user' || setting?.source === 'database user'
      ? `Raise or remove it for this role: ALTER ROLE ${pg.escapeIdentifier(role)} RESET statement_timeout; (or SET statement_timeout = '5min').`
      : setting?.source === 'database'
        ? `Raise or remove it for this database: ALTER DATABASE ... RESET statement_timeout; or use a role with a longer one.`
        : "Raise statement_timeout where it is set (the server configuration, the URL's options=-c statement_timeout=..., or PGOPTIONS), then run again.",
  );
  return setting ? Object.assign(failure, { facts: { setting: { name: 'statement_timeout', value: setting.value, source: setting.from } } }) : failure;
}

async function readOnly(said: string, where: string, role: string, context: ServerErrorContext | undefined, fail: Fail): Promise<TodoDbError> {
  const state = context
    ? await lookup(context, async (client) => (await client.query<{ standby: boolean }>('select pg_is_in_recovery() as standby')).rows[0]?.standby).catch(
        () => undefined,
      )
    : undefined;
  const setting = context && !state ? await settingSource(context, 'default_transaction_read_only').catch(() => undefined) : undefined;
  const why = state
    ? 'the server is a read-only standby (a replica in recovery)'
    : setting?.value === 'on'
      ? `default_transaction_read_only is on (${setting.from})`
      : 'the transaction is read-only';
  return fail(
    'READ_ONLY',
    `${where} refused a write because ${why} (PostgreSQL: ${said}).`,
    state
      ? 'Point the URL at the primary (read-write) server, not a replica.'
      : setting?.source === 'user' || setting?.source === 'database user'
        ? `Use a read-write role, or: ALTER ROLE ${pg.escapeIdentifier(role)} RESET default_transaction_read_only;`
        : "Use a read-write role and database; check default_transaction_read_only and the URL's options.",
  );
}

/** pg_settings' source, in words: "set on role x" rather than "user". */
export async function settingSource(context: ServerErrorContext, name: string): Promise<{ value: string; source: string; from: string }> {
  return lookup(context, async (client) => {
    const { rows } = await client.query<{ value: string; source: string }>(
      `select case when unit is null then setting when setting = '0' then '0 (off)' else setting || unit end as value, source from pg_settings where name = $1`,
      [name],
    );
    const row = rows[0] ?? { value: 'unknown', source: 'unknown' };
    return { ...row, from: SOURCES[row.source] ?? `from ${row.source}` };
  });
}

const SOURCES: Record<string, string> = {
  user: 'set on the role (ALTER ROLE ... SET, in pg_db_role_setting)',
  'database user': 'set on the role in this database (ALTER ROLE ... IN DATABASE ... SET, in pg_db_role_setting)',
  database: 'set on the database (ALTER DATABASE ... SET, in pg_db_role_setting)',
  'configuration file': 'from the server configuration file',
  client: "sent by the client (the URL's options or PGOPTIONS)",
  session: 'set in the session',
  default: 'the server default',
};

function lookup<T>(context: ServerErrorContext, work: (client: pg.Client) => Promise<T>): Promise<T> {
  return withConnection(context.url, { environment: context.environment, retries: 0, connectTimeoutMs: 5_000, applicationName: 'todo-db diagnosis' }, work);
}
