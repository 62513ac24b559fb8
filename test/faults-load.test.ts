import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase } from '../src/db/database.js';
import { createTestDatabase } from './helpers/database.js';
import { migrateProject } from './helpers/migrations.js';
import { newUser } from './helpers/users.js';

/** The library under load: every request succeeds, and the pool never holds more connections than it may. */

const POOL_SIZE = 10;
let url: string;
let monitor: pg.Client;
beforeAll(async () => {
  url = await createTestDatabase('load');
  await migrateProject(url);
  monitor = new pg.Client({ connectionString: url });
  await monitor.connect();
});
afterAll(async () => {
  await monitor?.end();
});

async function connectionsOf(applicationName: string): Promise<number> {
  const { rows } = await monitor.query<{ n: number }>('select count(*)::int as n from pg_stat_activity where application_name = $1', [applicationName]);
  return rows[0]!.n;
}

/** Samples pg_stat_activity until stopped; returns the largest count seen. */
function sampleConnections(applicationName: string): { stop: () => Promise<{ max: number; samples: number }> } {
  let running = true;
  let max = 0;
  let samples = 0;
  const loop = (async () => {
    while (running) {
      max = Math.max(max, await connectionsOf(applicationName));
      samples++;
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  })();
  return {
    stop: async () => {
      running = false;
      await loop;
      return { max, samples };
    },
  };
}

describe('openDatabase under load', () => {
  it('serves 50 concurrent then 1 000 more requests in waves with a pool of 10, and leaves no connection behind', async () => {
    const applicationName = `faults-load-${randomBytes(4).toString('hex')}`;
    const baseline = await connectionsOf(applicationName);
    const db = await openDatabase({ databaseUrl: url, poolSize: POOL_SIZE, applicationName });
    const user = await db.prisma.user.create({ data: newUser(`${applicationName}@load.test`) });
    const sampler = sampleConnections(applicationName);
    const started = Date.now();

    // Reads and writes alternate: a create, a list of the user's newest tasks, an update, a count.
    const request = (n: number): Promise<unknown> => {
      switch (n % 4) {
        case 0:
          return db.prisma.task.create({ data: { userId: user.id, title: `task ${n}` } });
        case 1:
          return db.prisma.task.findMany({ where: { userId: user.id }, orderBy: { createdAt: 'desc' }, take: 50 });
        case 2:
          return db.prisma.task.updateMany({ where: { userId: user.id, title: `task ${n - 2}` }, data: { priority: 'high' } });
        default:
          return db.prisma.task.count({ where: { userId: user.id } });
      }
    };
    const settle = async (ns: number[]) => (await Promise.allSettled(ns.map(request))).filter((outcome) => outcome.status === 'rejected');
    const failures = await settle(Array.from({ length: 50 }, (_, n) => n));
    for (let wave = 0; wave < 10; wave++) failures.push(...(await settle(Array.from({ length: 100 }, (_, n) => 50 + wave * 100 + n))));
    const loadMs = Date.now() - started;
    const { max, samples } = await sampler.stop();

    expect(failures.map((failure) => (failure as PromiseRejectedResult).reason?.message)).toEqual([]);
    expect(await db.prisma.task.count({ where: { userId: user.id } })).toBe(263); // n % 4 === 0 for n < 1050
    expect(samples).toBeGreaterThan(3);
    expect(max).toBeGreaterThan(0);
    expect(max).toBeLessThanOrEqual(POOL_SIZE);

    await db.close();
    const closeStarted = Date.now();
    while ((await connectionsOf(applicationName)) > baseline && Date.now() - closeStarted < 5000) await new Promise((resolve) => setTimeout(resolve, 20));
    expect(await connectionsOf(applicationName)).toBe(baseline);
    console.info(
      `load: 1 050 requests in ${loadMs} ms, ${samples} samples, at most ${max} connections; back to ${baseline} ${Date.now() - closeStarted} ms after close()`,
    );
  });
});
