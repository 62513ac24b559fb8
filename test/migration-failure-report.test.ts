import { describe, expect, it } from 'vitest';
import { sqlState } from '../src/db/server-errors.js';
import { migrationFailed } from '../src/migrations/errors.js';
import type { Migration } from '../src/migrations/folder.js';

/** Issue 22: a socket error is Node's, not PostgreSQL's: no SQLSTATE, and a hint about the connection, not the SQL. */
const migration = { name: '20260101000001_a', path: '/tmp/migrations/20260101000001_a/migration.sql' } as Migration;
const socketError = (code: string) => Object.assign(new Error(`read ${code}`), { code, errno: -104, syscall: 'read' });

describe('a migration cut short by a socket error', () => {
  it.each(['ECONNRESET', 'EPIPE', 'ETIMEDOUT'])('%s carries no SQLSTATE and a hint that fits the connection', (code) => {
    const failure = migrationFailed(migration, 'migration.sql', 'create table a (id int);\n', socketError(code), {});
    expect(failure.message).not.toMatch(/SQLSTATE/);
    expect(failure.hint).toMatch(/connection to PostgreSQL ended/);
    expect(failure.hint).not.toMatch(/Fix migration\.sql/);
    expect(sqlState(failure)).toBeUndefined();
  });

  it('a PostgreSQL error keeps its SQLSTATE', () => {
    const error = Object.assign(new Error('column "x" does not exist'), { code: '42703' });
    expect(migrationFailed(migration, 'migration.sql', 'select x;\n', error, {}).message).toMatch(/\(SQLSTATE 42703\)/);
    expect(sqlState(error)?.code).toBe('42703');
  });
});
