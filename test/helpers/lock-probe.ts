import pg from 'pg';
import { expect } from 'vitest';
import { LOCK_LEVELS, type LockLevel } from '../../src/lint/locks.js';
import type { StatementPlan } from '../../src/lint/lint.js';

/**
 * What PostgreSQL itself does when it runs one statement, read from the server while the statement holds its
 * locks: per relation of the fixture the strongest lock (pg_locks), whether its storage was rewritten
 * (relfilenode changed with the rows read) and whether its rows were read (pg_stat seq_tup_read + idx_tup_fetch
 * reaching the table's row count), and per table whether another session's SELECT and UPDATE wait.
 *
 * A statement that PostgreSQL runs in a transaction block runs in one (session A) and is rolled back after the
 * observation, so every entry starts from the same fixture. One that cannot (CONCURRENTLY, VACUUM) runs on its
 * own while a third session holds SHARE UPDATE EXCLUSIVE on its `blockOn` table: it waits in the lock queue,
 * holding what it took so far, and its request counts as the lock it takes (a later SELECT or UPDATE that
 * conflicts with the queued request waits behind it, as it would behind the granted lock).
 */
export interface LockEntry {
  sql: string;
  /** Runs outside a transaction block, observed while waiting for this table. */
  blockOn?: string;
  /** The lock held on blockOn meanwhile: SHARE UPDATE EXCLUSIVE (the default) stops it at its first lock on the
   * table; ROW EXCLUSIVE, an open writer, lets a CONCURRENTLY form take its locks and wait for the writer;
   * ACCESS SHARE, an open reader, stops it only at an ACCESS EXCLUSIVE. */
  blockWith?: 'SHARE UPDATE EXCLUSIVE' | 'ROW EXCLUSIVE' | 'ACCESS SHARE';
  /** Puts the fixture back after a statement that cannot be rolled back. */
  undo?: string;
}

/** Per relation `LOCK[ rewrite][ scan]`, and the probed tables whose reads or writes wait. */
export interface LockTruth {
  relations: Record<string, string>;
  readsWait: string[];
  writesWait: string[];
}

/** Indexes: only locks from SHARE UPDATE EXCLUSIVE up; every query and write takes the weaker ones on its table's indexes. */
const INDEX_LOCK_FLOOR = LOCK_LEVELS.indexOf('SHARE UPDATE EXCLUSIVE');

/** The fixture: a few tables of some thousand rows with what the corpus needs around them. */
const FIXTURE_SQL = `
create schema archive;
create type task_status as enum ('pending', 'completed');
create domain estimate as int;
alter domain estimate add constraint estimate_nv check (value < 100) not valid;
create table users (id bigint primary key, email text not null, name text) with (autovacuum_enabled = false);
create unique index users_email_key on users (email);
create table tasks (
  id bigint primary key, user_id bigint not null references users (id), title text not null, description text,
  status task_status not null default 'pending', priority int, points estimate, tag varchar(20), done boolean
) with (autovacuum_enabled = false);
create index tasks_user_id_idx on tasks (user_id);
create index tasks_status_idx on tasks (status);
alter table tasks add constraint tasks_priority_check check (priority >= 0) not valid;
alter table tasks add constraint tasks_user_fkey_nv foreign key (user_id) references users (id) not valid;
create table labels (id bigint primary key, task_id bigint, name text) with (autovacuum_enabled = false);
create table events (id bigint not null, at date not null, kind text) partition by range (at);
create table events_2025 partition of events for values from ('2025-01-01') to ('2026-01-01') with (autovacuum_enabled = false);
create table events_2026 partition of events for values from ('2026-01-01') to ('2027-01-01') with (autovacuum_enabled = false);
create table events_2027 (id bigint not null, at date not null, kind text) with (autovacuum_enabled = false);
create sequence ticket_seq;
create view open_tasks as select id, title from tasks where status = 'pending';
create materialized view task_counts as select status, count(*) as n from tasks group by status;
create unique index task_counts_status_key on task_counts (status);
create function touch() returns trigger language plpgsql as $$ begin return new; end $$;
create trigger tasks_touch before update on tasks for each row execute function touch();
create policy tasks_own on tasks using (true);
insert into users select g, 'u' || g || '@example.com', 'user ' || g from generate_series(1, 2000) g;
insert into tasks select g, 1 + g % 2000, 'task ' || g, null, case when g % 3 = 0 then 'completed'::task_status else 'pending' end, g % 5, g % 8, 't' || g % 10, false
  from generate_series(1, 5000) g;
insert into labels select g, g, 'label ' || g from generate_series(1, 3000) g;
insert into events select g, date '2025-01-01' + (g % 700), 'k' || g % 4 from generate_series(1, 3000) g;
insert into events_2027 select g, date '2027-01-01' + (g % 300), 'k' from generate_series(1, 1000) g;
refresh materialized view task_counts;
analyze;
`;

/** One write per table that touches a row no corpus statement changes (id 1), through its primary key. */
const WRITE_PROBES: Record<string, string> = {
  users: "update users set name = name where id = 1",
  tasks: "update tasks set done = done where id = 1",
  labels: "update labels set name = name where id = 1",
  events_2025: "update events_2025 set kind = kind where id = 1",
  events_2026: "update events_2026 set kind = kind where id = 366",
  events_2027: "update events_2027 set kind = kind where id = 1",
};
const READ_PROBES = [...Object.keys(WRITE_PROBES), 'task_counts'];

const PROBE_ROWS = 2;
const PROBE_TIMEOUT = "set local lock_timeout = '40ms'";

export class LockProbe {
  private rows = new Map<string, number>();
  private constructor(private readonly url: string, private readonly a: pg.Client, private readonly b: pg.Client, private readonly c: pg.Client) {}

  static async start(url: string): Promise<LockProbe> {
    const clients = [new pg.Client(url), new pg.Client(url), new pg.Client(url)] as const;
    await Promise.all(clients.map((client) => client.connect()));
    for (const client of clients) client.on('error', () => {});
    const probe = new LockProbe(url, ...clients);
    await clients[0].query(FIXTURE_SQL);
    const counts = await clients[0].query<{ name: string; n: string }>(`select relname as name, n_live_tup::text as n from pg_stat_user_tables`);
    for (const row of counts.rows) probe.rows.set(row.name, Number(row.n));
    for (const name of READ_PROBES) probe.rows.set(name, Number((await clients[0].query(`select count(*)::int as n from ${name}`)).rows[0].n));
    return probe;
  }

  /** A client on the fixture's database, for the lint's live facts. */
  get database(): string {
    return this.url;
  }

  async end(): Promise<void> {
    await Promise.all([this.a.end(), this.b.end(), this.c.end()]);
  }

  async serverVersion(): Promise<number> {
    return Number((await this.a.query('show server_version_num')).rows[0].server_version_num);
  }

  async observe(entry: LockEntry): Promise<LockTruth> {
    await this.warmProbes();
    return entry.blockOn ? this.observeOutsideTransaction(entry, entry.blockOn) : this.observeInTransaction(entry);
  }

  private async observeInTransaction(entry: LockEntry): Promise<LockTruth> {
    const { a } = this;
    // The xact counters are what this backend has not flushed yet, not just this transaction's: flush first.
    await a.query('select pg_stat_force_next_flush()');
    await a.query('begin');
    try {
      const before = await this.storage(a);
      await a.query(entry.sql);
      const pid = Number((await a.query('select pg_backend_pid() as pid')).rows[0].pid);
      const read = await this.rowsRead(a, 'pg_stat_xact_user_tables');
      const after = await this.storage(a);
      const locks = await this.locksOf(pid);
      const waits = await this.probeWaits();
      return this.truth(locks, before, after, read, waits);
    } finally {
      await a.query('rollback');
    }
  }

  private async observeOutsideTransaction(entry: LockEntry, blockOn: string): Promise<LockTruth> {
    const { a, b, c } = this;
    await this.flushStats();
    const readBefore = await this.rowsRead(a, 'pg_stat_user_tables');
    const before = await this.storage(a);
    const pid = Number((await a.query('select pg_backend_pid() as pid')).rows[0].pid);
    await c.query('begin');
    await c.query(`lock table ${blockOn} in ${entry.blockWith ?? 'SHARE UPDATE EXCLUSIVE'} mode`);
    const running = a.query(entry.sql).then(() => undefined, (error: unknown) => error);
    try {
      await waitUntil(async () => (await b.query(`select wait_event_type from pg_stat_activity where pid = $1`, [pid])).rows[0]?.wait_event_type === 'Lock', () => running);
      const locks = await this.locksOf(pid);
      const waits = await this.probeWaits();
      await c.query('rollback');
      const failure = await running;
      if (failure) throw failure;
      await this.flushStats();
      const readAfter = await this.rowsRead(a, 'pg_stat_user_tables');
      const after = await this.storage(a);
      // Less the rows the probes read meanwhile: one per read probe and one per write probe.
      const read = new Map([...readAfter].map(([name, n]) => [name, n - (readBefore.get(name) ?? 0) - PROBE_ROWS]));
      return this.truth(locks, before, after, read, waits);
    } finally {
      await c.query('rollback');
      await running;
      if (entry.undo) await a.query(entry.undo);
    }
  }

  /** Every session's counters in the shared statistics, so that a difference holds all that was read between. */
  private async flushStats(): Promise<void> {
    for (const client of [this.a, this.b, this.c]) await client.query('select pg_stat_force_next_flush()');
  }

  /** relfilenode per relation of schema public, by name (a rebuilt index may get a new oid). */
  private async storage(client: pg.Client): Promise<Map<string, { kind: string; file: string; table: string }>> {
    const { rows } = await client.query<{ name: string; kind: string; file: string; table: string }>(`
      select c.relname as name, c.relkind::text as kind, c.relfilenode::text as file, coalesce(t.relname, c.relname) as "table"
        from pg_class c left join pg_index i on i.indexrelid = c.oid left join pg_class t on t.oid = i.indrelid
       where c.relnamespace = 'public'::regnamespace and c.relkind in ('r', 'p', 'm', 'v', 'S', 'i', 'I')`);
    return new Map(rows.map((row) => [row.name, row]));
  }

  private async rowsRead(client: pg.Client, view: string): Promise<Map<string, number>> {
    const { rows } = await client.query<{ name: string; n: string }>(`select relname as name, (coalesce(seq_tup_read, 0) + coalesce(idx_tup_fetch, 0))::text as n from ${view} where schemaname = 'public'`);
    return new Map(rows.map((row) => [row.name, Number(row.n)]));
  }

  /** Read by another session: it still sees what the statement drops. */
  private async locksOf(pid: number): Promise<Map<string, LockLevel>> {
    const { rows } = await this.b.query<{ name: string; mode: string }>(`
      select c.relname as name, l.mode from pg_locks l join pg_class c on c.oid = l.relation
       where l.pid = $1 and l.locktype = 'relation' and c.relnamespace = 'public'::regnamespace`, [pid]);
    const strongest = new Map<string, LockLevel>();
    for (const row of rows) {
      const level = modeLevel(row.mode);
      const seen = strongest.get(row.name);
      if (!seen || LOCK_LEVELS.indexOf(level) > LOCK_LEVELS.indexOf(seen)) strongest.set(row.name, level);
    }
    return strongest;
  }

  /**
   * Each probe once before the statement: a session whose catalog cache is warm, as an application's is. (A
   * cold one writing a partition also reads the parent's partition bounds, under ACCESS SHARE on the parent.)
   */
  private async warmProbes(): Promise<void> {
    expect(await this.probeWaits()).toEqual({ readsWait: [], writesWait: [] });
  }

  private async probeWaits(): Promise<{ readsWait: string[]; writesWait: string[] }> {
    const readsWait: string[] = [];
    const writesWait: string[] = [];
    for (const table of READ_PROBES) if (await this.waits(`select 1 from ${table} limit 1`)) readsWait.push(table);
    for (const [table, sql] of Object.entries(WRITE_PROBES)) if (await this.waits(sql)) writesWait.push(table);
    return { readsWait, writesWait };
  }

  /** True when the statement fails on lock_timeout: it had to wait for a lock another session holds. */
  private async waits(sql: string): Promise<boolean> {
    const { b } = this;
    await b.query('begin');
    try {
      await b.query(PROBE_TIMEOUT);
      await b.query(sql);
      return false;
    } catch (error) {
      if ((error as { code?: string }).code === '55P03') return true;
      throw error;
    } finally {
      await b.query('rollback');
    }
  }

  private truth(locks: Map<string, LockLevel>, before: Map<string, { kind: string; file: string; table: string }>, after: Map<string, { file: string }>, read: Map<string, number>, waits: { readsWait: string[]; writesWait: string[] }): LockTruth {
    const scanned = (table: string) => (this.rows.get(table) ?? 0) > 0 && (read.get(table) ?? 0) >= (this.rows.get(table) ?? 0);
    const relations: Record<string, string> = {};
    for (const [name, relation] of before) {
      const index = relation.kind === 'i' || relation.kind === 'I';
      const lock = locks.get(name);
      const shownLock = lock && (!index || LOCK_LEVELS.indexOf(lock) >= INDEX_LOCK_FLOOR) ? lock : undefined;
      const moved = after.has(name) && after.get(name)?.file !== relation.file && relation.file !== '0';
      const scan = !index && scanned(name);
      const rewrite = moved && scanned(relation.table);
      const text = [shownLock ?? (rewrite || scan ? 'NO LOCK' : ''), rewrite ? 'rewrite' : '', scan ? 'scan' : ''].filter(Boolean).join(' ');
      if (text) relations[name] = text;
    }
    return { relations, ...waits };
  }
}

/** The same shape from the lint's plan of the statement. */
export function planTruth(plan: StatementPlan[]): LockTruth {
  const relations: Record<string, string> = {};
  const readsWait = new Set<string>();
  const writesWait = new Set<string>();
  for (const lock of plan.flatMap((statement) => statement.locks)) {
    if (lock.newTable) continue;
    const index = lock.kind === 'index';
    const effect = index ? (lock.effect === 'rewrite' ? ' rewrite' : '') : lock.effect === 'rewrite' ? ' rewrite scan' : lock.effect === 'scan' ? ' scan' : '';
    relations[lock.table] = `${lock.lock}${effect}`;
    const table = lock.of ?? lock.table;
    if (lock.blocksReads) readsWait.add(table);
    if (lock.blocksWrites) writesWait.add(table);
  }
  const probed = (names: Set<string>, probes: string[]) => probes.filter((table) => names.has(table));
  return { relations, readsWait: probed(readsWait, READ_PROBES), writesWait: probed(writesWait, Object.keys(WRITE_PROBES)) };
}

/**
 * A statement observed while it waits shows the locks it took up to there: a relation it locks later (an index
 * VACUUM FULL rebuilds) has its rewrite compared but not its lock.
 */
export function unobservedLocks(plan: LockTruth, truth: LockTruth): LockTruth {
  const relations = Object.fromEntries(Object.entries(plan.relations).map(([name, text]) => [name, truth.relations[name]?.startsWith('NO LOCK') ? text.replace(/^[A-Z ]+?(?= rewrite| scan|$)/, 'NO LOCK') : text]));
  return { ...plan, relations };
}

function modeLevel(mode: string): LockLevel {
  return mode.replace(/Lock$/, '').replace(/([a-z])([A-Z])/g, '$1 $2').toUpperCase() as LockLevel;
}

/** Polls until the statement waits on a lock (or ends, which the caller then reports). */
async function waitUntil(condition: () => Promise<boolean>, ended: () => Promise<unknown>): Promise<void> {
  let done = false;
  void ended().then(() => {
    done = true;
  });
  while (!done && !(await condition())) await new Promise((resolve) => setTimeout(resolve, 5));
  if (done) throw new Error('the statement finished without waiting for the lock held on its blockOn table');
}
