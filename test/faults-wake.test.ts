import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type CliResult, runCli } from './helpers/cli.js';
import { createTestDatabase } from './helpers/database.js';
import { startWakeProxy, type WakeProxy } from './helpers/wake-proxy.js';

/** A slow-to-wake server (a suspended Neon compute), played by a proxy whose port refuses until it wakes. */

let databaseUrl: string;
let proxy: WakeProxy | undefined;
beforeAll(async () => {
  databaseUrl = await createTestDatabase('wake');
});
afterEach(async () => {
  await proxy?.close();
  proxy = undefined;
});

async function asleepFor(asleepMs: number): Promise<string> {
  const target = new URL(databaseUrl);
  proxy = await startWakeProxy({ targetHost: target.hostname, targetPort: Number(target.port), asleepMs });
  return proxy.url(databaseUrl);
}

function attempts(result: CliResult): Array<{ attempt: number; of: number; delayS?: number }> {
  return [...result.stderr.matchAll(/^attempt (\d+)\/(\d+) failed: CONNECTION_REFUSED .*; (?:retrying in (\d+\.\d) s|no retry)$/gm)].map((match) => ({
    attempt: Number(match[1]),
    of: Number(match[2]),
    delayS: match[3] === undefined ? undefined : Number(match[3]),
  }));
}

async function timed(run: () => Promise<CliResult>): Promise<{ result: CliResult; elapsedMs: number }> {
  const started = Date.now();
  const result = await run();
  return { result, elapsedMs: Date.now() - started };
}

describe('check-connection against a server that wakes up slowly', () => {
  it('in production, succeeds on a later attempt once the server wakes after 3 s, logging every attempt and its delay', async () => {
    const url = await asleepFor(3000);
    // Enough retries that no draw of the jitter can use them all up inside the 3 s of sleep (the delays' caps sum
    // to minutes); the exact delays and deadlines are proven on a fake clock in retry.test.ts.
    const { result, elapsedMs } = await timed(() =>
      runCli(['check-connection', '--retries', '30', '--timeout', '40000'], { env: { DATABASE_URL: url, ENVIRONMENT: 'production' } }),
    );

    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toMatch(/Connected to PostgreSQL/);
    const failed = attempts(result);
    expect(failed.length).toBeGreaterThanOrEqual(1);
    expect(failed.map((line) => line.attempt)).toEqual(failed.map((_, index) => index + 1));
    expect(failed.every((line) => line.of === 31 && line.delayS !== undefined)).toBe(true);
    expect(result.stdout).toMatch(new RegExp(`attempts\\s+${failed.length + 1}\\b`));
    // The server refuses for 3 s, so no connection can come sooner, whatever the jitter drew.
    expect(elapsedMs).toBeGreaterThanOrEqual(3000);
    expect(proxy!.forwarded()).toBeGreaterThanOrEqual(1);
    console.info(`wake after 3 s: connected on attempt ${failed.length + 1} after ${elapsedMs} ms`);
  });

  it('in production, gives up at the --timeout deadline (±1 s) with exit 1 when the server sleeps longer', async () => {
    const url = await asleepFor(60_000);
    const { result, elapsedMs } = await timed(() =>
      runCli(['check-connection', '--retries', '20', '--timeout', '4000', '--json'], { env: { DATABASE_URL: url, ENVIRONMENT: 'production' } }),
    );

    expect(result.code).toBe(1);
    expect(result.json().error).toMatchObject({ code: 'CONNECTION_REFUSED' });
    expect(result.json().error.message).toMatch(/Gave up at the 4 s deadline after \d+ attempts/);
    expect(attempts(result).length).toBeGreaterThanOrEqual(2);
    // It waited for the deadline rather than giving up at once; that no sleep runs past it is proven on a fake clock.
    expect(elapsedMs).toBeGreaterThanOrEqual(3000);
    expect(elapsedMs).toBeLessThan(40_000);
    expect(proxy!.forwarded()).toBe(0);
    console.info(`asleep past a 4 s deadline: exit ${result.code} after ${elapsedMs} ms, ${attempts(result).length} attempts`);
  });

  it('in development, fails on the first attempt without retrying', async () => {
    const url = await asleepFor(60_000);
    const { result, elapsedMs } = await timed(() => runCli(['check-connection'], { env: { DATABASE_URL: url } }));

    expect(result.code).toBe(1);
    expect(attempts(result)).toEqual([{ attempt: 1, of: 1, delayS: undefined }]);
    expect(result.stderr).toMatch(/CONNECTION_REFUSED/);
    expect(elapsedMs).toBeLessThan(3000);
  });
});
