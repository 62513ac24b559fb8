import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { beforeAll, describe, expect, it } from 'vitest';
import { defaultMigrationsDir } from '../src/config/package-root.js';
import { findStatementProblem } from '../src/migrations/sql.js';
import { lineColumnAt, loadSqlParser, SourceLines, type SqlParser, SqlSyntaxError } from '../src/sql/parser.js';
import { createTestDatabase } from './helpers/database.js';

/** Which statements a file holds and what the runner makes of them: PostgreSQL's parser, judged by parse node. */

let parser: SqlParser;
beforeAll(async () => {
  parser = await loadSqlParser();
});

const judge = (sql: string, transactional = true) => {
  const problem = findStatementProblem(parser.parse(sql), { transactional });
  return problem && { kind: problem.kind, what: problem.what };
};

describe('transaction control, whatever its spelling', () => {
  it.each([
    ['BEGIN', 'BEGIN'],
    ['begin work', 'BEGIN'],
    ['BEGIN ISOLATION LEVEL SERIALIZABLE', 'BEGIN'],
    ['start transaction read only', 'START TRANSACTION'],
    ['COMMIT', 'COMMIT'],
    ['commit work', 'COMMIT'],
    ['END', 'COMMIT'],
    ['end transaction', 'COMMIT'],
    ['COMMIT AND CHAIN', 'COMMIT AND CHAIN'],
    ['end and chain', 'COMMIT AND CHAIN'],
    ['ROLLBACK', 'ROLLBACK'],
    ['abort', 'ROLLBACK'],
    ['ROLLBACK AND CHAIN', 'ROLLBACK AND CHAIN'],
    ['abort and chain', 'ROLLBACK AND CHAIN'],
    ['commit and no chain', 'COMMIT'],
    ["PREPARE TRANSACTION 'x'", 'PREPARE TRANSACTION'],
    ["COMMIT PREPARED 'x'", 'COMMIT PREPARED'],
    ["rollback prepared 'x'", 'ROLLBACK PREPARED'],
    ['/* a comment */ -- and another\n  CoMmIt', 'COMMIT'],
  ])('%j is refused as %s', (sql, what) => {
    expect(judge(`create table t (id int);\n${sql};\nselect 1;`)).toEqual({ kind: 'transaction-control', what });
    expect(judge(`${sql};`, false)).toEqual({ kind: 'transaction-control', what });
  });

  it('savepoints are harmless in a transaction and refused outside one', () => {
    for (const sql of ['savepoint a', 'release savepoint a', 'release a', 'rollback to savepoint a', 'rollback to a']) {
      expect(judge(`${sql};`)).toBeUndefined();
      expect(judge(`${sql};`, false)?.kind).toBe('transaction-control');
    }
  });

  it.each([
    ['create function f() returns int language sql begin atomic select 1; select 2; end', 'a BEGIN ATOMIC body'],
    ['create function f() returns trigger language plpgsql as $$ begin commit; end $$', 'COMMIT inside a dollar-quoted body'],
    ['do $x$ begin perform 1; end $x$', 'a DO block'],
    ["select 'commit; begin;'", 'a string holding the words'],
    ['select 1 as "commit"', 'a quoted identifier'],
    ['create table "begin" (id int)', 'a table named begin'],
  ])('%j is not transaction control (%s)', (sql) => {
    expect(judge(`${sql};`)).toBeUndefined();
  });
});

describe('statements PostgreSQL refuses in a transaction block', () => {
  it.each([
    ['create index concurrently i on t (a)', 'CREATE INDEX CONCURRENTLY'],
    ['create unique index concurrently if not exists i on t (a)', 'CREATE INDEX CONCURRENTLY'],
    ['drop index concurrently i', 'DROP INDEX CONCURRENTLY'],
    ['drop index concurrently if exists i', 'DROP INDEX CONCURRENTLY'],
    ['reindex (concurrently) table t', 'REINDEX CONCURRENTLY'],
    ['reindex index concurrently i', 'REINDEX CONCURRENTLY'],
    ['reindex schema s', 'REINDEX SCHEMA'],
    ['reindex database d', 'REINDEX DATABASE'],
    ['reindex system d', 'REINDEX SYSTEM'],
    ['vacuum', 'VACUUM'],
    ['vacuum (analyze) t', 'VACUUM'],
    ['cluster', 'CLUSTER without a table'],
    ['alter system set work_mem = 1', 'ALTER SYSTEM'],
    ['alter system reset all', 'ALTER SYSTEM'],
    ['create database d', 'CREATE DATABASE'],
    ['drop database if exists d', 'DROP DATABASE'],
    ["create tablespace x location '/x'", 'CREATE TABLESPACE'],
    ['drop tablespace x', 'DROP TABLESPACE'],
    ['alter database d set tablespace x', 'ALTER DATABASE ... SET TABLESPACE'],
    ['alter table p detach partition c concurrently', 'ALTER TABLE ... DETACH PARTITION ... CONCURRENTLY'],
    ["create subscription s connection 'x' publication p", 'CREATE SUBSCRIPTION (with a replication slot)'],
  ])('%j needs a no-transaction migration (%s)', (sql, what) => {
    expect(judge(`${sql};`)).toEqual({ kind: 'needs-no-transaction', what });
    expect(judge(`${sql};`, false)).toBeUndefined();
  });

  it.each([
    'create index i on t (a)',
    'drop index i',
    'reindex table t',
    'analyze t',
    'cluster t using i',
    'alter table p detach partition c',
    'alter database d set work_mem = 1',
    "create subscription s connection 'x' publication p with (create_slot = false)",
    "create subscription s connection 'x' publication p with (connect = off)",
    'refresh materialized view concurrently m',
    'discard temp',
  ])('%j runs in a transaction', (sql) => {
    expect(judge(`${sql};`)).toBeUndefined();
  });

  it('DISCARD ALL is refused everywhere: it would release the migration lock', () => {
    expect(judge('discard all;')).toEqual({ kind: 'releases-lock', what: 'DISCARD ALL' });
    expect(judge('discard all;', false)).toEqual({ kind: 'releases-lock', what: 'DISCARD ALL' });
  });
});

/** Parse nodes without their locations (location, list_start, list_end), which depend on where the statement stands. */
function withoutLocations(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withoutLocations);
  if (value && typeof value === 'object')
    return Object.fromEntries(
      Object.entries(value)
        .filter(([key]) => !/location$|^list_(start|end)$/.test(key))
        .map(([key, inner]) => [key, withoutLocations(inner)]),
    );
  return value;
}

const nastyPieces = [
  'create table corpus (id int, body text)',
  "insert into corpus values (1, E'it\\'s; fine'), (2, 'it''s; fine too'), (3, $$dollar; quoted$$), (4, $tag$ nested $$ ; $tag$)",
  '/* a /* nested */ comment; with a semicolon */ select 1',
  'create function corpus_fn() returns int language plpgsql as $body$ begin perform 1; return 2; end; $body$',
  'create function corpus_atomic(i int) returns int language sql begin atomic select i + 1; end',
  "select 'multi\nline; string'",
  'select "semi;colon" from (select 1 as "semi;colon") q',
  '-- a line comment; with a semicolon\nselect 2',
  "select U&'\\0441\\043B\\043E\\043D'",
  "select 'héllo wörld; ünïcode 🐘'",
];

describe('statements are split as PostgreSQL splits them', () => {
  function expectExactSplit(script: string): number {
    const statements = parser.parse(script);
    for (const statement of statements) {
      // Each statement's own text parses alone to the same node: nothing cut, nothing glued on.
      const [alone, ...rest] = parser.parse(statement.sql);
      expect(rest).toEqual([]);
      expect(alone?.kind).toBe(statement.kind);
      expect(withoutLocations(alone?.node)).toEqual(withoutLocations(statement.node));
      expect(script.slice(statement.offset, statement.end)).toBe(statement.sql);
    }
    return statements.length;
  }

  it("the project's own migrations", () => {
    const dir = defaultMigrationsDir();
    const sql = readFileSync(join(dir, '20261123000000_init', 'migration.sql'), 'utf8');
    const kinds = new Set(parser.parse(sql).map((statement) => statement.kind));
    expect(kinds.size).toBeGreaterThan(3);
    expect(expectExactSplit(sql)).toBeGreaterThan(10);
    expect(judge(sql)).toBeUndefined();
  });

  it('dollar quotes, nested comments, E strings, BEGIN ATOMIC, Unicode', () => {
    expect(expectExactSplit(`${nastyPieces.join(';\n')};\n`)).toBe(nastyPieces.length);
  });

  it('a file of 2,000 statements: the same count as the server completes', async () => {
    const pieces = Array.from({ length: 2000 }, (_, i) =>
      nastyPieces[i % nastyPieces.length]!.replaceAll('corpus', `corpus_${Math.floor(i / nastyPieces.length)}`),
    );
    const script = `${pieces.join(';\n')};\n`;
    expect(expectExactSplit(script)).toBe(2000);

    // The server, given the whole file as one query, completes exactly as many statements.
    const client = new pg.Client({ connectionString: await createTestDatabase('corpus') });
    await client.connect();
    let completed = 0;
    client.connection.on('commandComplete', () => void completed++);
    try {
      await client.query('begin');
      completed = 0;
      await client.query(script);
      expect(completed).toBe(2000);
    } finally {
      await client.query('rollback');
      await client.end();
    }
  });

  it('a file of many parser pieces: cuts inside strings, comments and bodies change nothing', () => {
    // Over 2 MB, so the parser works piece by piece; statements of every length put its cuts everywhere.
    const pieces = Array.from(
      { length: 24_000 },
      (_, i) => `-- ${'x;'.repeat(i % 7)}\n${nastyPieces[i % nastyPieces.length]!.replaceAll('corpus', `corpus_${i}`)}`,
    );
    const body = Array.from({ length: 40_000 }, (_, i) => `perform ${i};`).join(' ');
    pieces.splice(12_000, 0, `create function corpus_huge() returns void language plpgsql as $body$ begin ${body} end; $body$`);
    const script = `${pieces.join(';\n')};\n`;
    expect(script.length).toBeGreaterThan(2_000_000);
    expect(expectExactSplit(script)).toBe(pieces.length);
  });

  it('a syntax error far into a file points where the server would', () => {
    const script = `${'select 1;\n'.repeat(60_000)}select 'é';\nselect 1 frm t;\n`;
    const error = (() => {
      try {
        parser.parse(script);
      } catch (caught) {
        return caught as SqlSyntaxError;
      }
      return undefined;
    })();
    expect(error).toBeInstanceOf(SqlSyntaxError);
    expect(error?.message).toMatch(/syntax error at or near "t"/);
    expect(script.slice(error?.offset)).toBe('t;\n');
  });
});

describe('line and column of an offset', () => {
  /** The definition: lines split at \n, columns in code points, as an editor counts them. */
  function naive(script: string, offset: number) {
    const before = script.slice(0, Math.max(0, offset));
    const lineStart = before.lastIndexOf('\n') + 1;
    const lineEnd = script.indexOf('\n', lineStart);
    return {
      line: before.split('\n').length,
      column: Array.from(before.slice(lineStart)).length + 1,
      text: script.slice(lineStart, lineEnd === -1 ? script.length : lineEnd).replace(/\r$/, ''),
    };
  }

  it.each([
    ['plain lines', 'select 1;\nselect 2;\n\nselect 3;'],
    ['CRLF line endings', 'select 1;\r\nselect 2;\r\n'],
    ['astral characters, one long line', `${"select '🐘 é';".repeat(50)}`],
    ['a lone surrogate', `select '\ud800x';\nselect '🐘\udc00';`],
  ])('%s: every offset, in order and backwards, as the definition says', (_, script) => {
    const lines = new SourceLines(script);
    const offsets = Array.from({ length: script.length + 3 }, (__, i) => i - 1);
    for (const offset of [...offsets, ...offsets.reverse()]) expect(lines.at(offset)).toEqual(naive(script, offset));
    expect(lineColumnAt(script, 5)).toEqual(naive(script, 5));
  });
});
