import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LatencyProxy, type RoundTripCounts, startLatencyProxy, throughProxy } from '../bench/latency.mjs';
import { runCli } from './helpers/cli.js';
import { createTestDatabase } from './helpers/database.js';
import { migrateProject, query } from './helpers/migrations.js';

// In production every round trip costs milliseconds (Neon, 5 to 80 ms away): these are the counts the latency
// bench measures, held here so that a change which adds a query or a connection is seen. A count is the same on
// every run; it does not depend on timing.
let proxy: LatencyProxy;
let url: string;
/** What opening a connection costs on this server (its authentication decides), measured with pg alone. */
let connecting: number;

beforeAll(async () => {
  const direct = await createTestDatabase('round_trips');
  await migrateProject(direct);
  const target = new URL(direct);
  proxy = await startLatencyProxy({ target: { host: target.hostname, port: Number(target.port) }, rttMs: 0 });
  url = throughProxy(direct, proxy, target.hostname);
  const baseline = await counted(async () => {
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    await client.query('select 1');
    await client.end();
  });
  connecting = baseline.roundTrips - 1;
});

afterAll(() => proxy?.close());

async function counted(work: () => Promise<unknown>): Promise<RoundTripCounts> {
  proxy.reset();
  await work();
  return proxy.counts();
}

async function cli(...args: string[]): Promise<RoundTripCounts> {
  return counted(async () => {
    const result = await runCli(args, { env: { DATABASE_URL: url } });
    expect(result.code, result.stderr).toBe(0);
  });
}

/** Queries beyond opening the connections. */
const queries = ({ connections, roundTrips }: RoundTripCounts) => roundTrips - connections * connecting;

describe('round trips per command', () => {
  it.each(['check-connection', 'health', 'migrate status', 'migrate up'])('%s (up to date) is one connection and one query', async (command) => {
    const counts = await cli(...command.split(' '));
    expect(counts.connections).toBe(1);
    expect(queries(counts)).toBe(1);
  });

  it('seed-dev: a first run is three queries (what exists; BEGIN with the user and its tasks; COMMIT), a rerun one', async () => {
    await query(url, `delete from "user" where email = 'test@example.com'`);
    const first = await cli('seed-dev');
    expect(first.connections).toBe(1);
    expect(queries(first)).toBe(3);
    const rerun = await cli('seed-dev');
    expect(rerun.connections).toBe(1);
    expect(queries(rerun)).toBe(1);
  });

  it('smoke: one connection, shared by the migration check and Prisma Client', async () => {
    const counts = await cli('smoke');
    expect(counts.connections).toBe(1);
    // The check, then Prisma's queries and the task clock reads of the five steps.
    expect(queries(counts)).toBe(14);
  });

  it('setup (already set up): two connections, one for the check, the migrations and the seed, one for smoke', async () => {
    const counts = await cli('setup');
    expect(counts.connections).toBe(2);
    // The check, the history, what the seed finds, and smoke's fourteen less its migration check.
    expect(queries(counts)).toBe(16);
  });
});
