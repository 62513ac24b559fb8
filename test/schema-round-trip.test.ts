import { describe, expect, it } from 'vitest';
import { catalogSnapshot } from './helpers/catalog.js';
import { runCli } from './helpers/cli.js';
import { createTestDatabase } from './helpers/database.js';

/** The project's own migrations (prisma/migrations, found from the package, not the working directory). */
const migrate = (url: string, ...args: string[]) => runCli(['migrate', ...args], { env: { DATABASE_URL: url }, cwd: '/' });

describe('the project migrations, up and down', () => {
  it('up applies init, down removes every object it created, and up works again', async () => {
    const url = await createTestDatabase('roundtrip');
    const empty = await catalogSnapshot(url);

    const up = await migrate(url, 'up', '--json');
    expect(up.code, up.stderr).toBe(0);
    expect(up.json().data.applied.map((step: { name: string }) => step.name)).toContain('20261123000000_init');
    const status = await migrate(url, 'status', '--json');
    expect(status.code).toBe(0);
    expect(status.json().data.upToDate).toBe(true);
    const migrated = await catalogSnapshot(url);
    expect(migrated.length).toBeGreaterThan(empty.length);

    const steps = String(up.json().data.applied.length);
    const down = await migrate(url, 'down', '--steps', steps);
    expect(down.code, down.stderr).toBe(0);
    const afterDown = (await catalogSnapshot(url)).filter((line) => !/_prisma_migrations/.test(line));
    expect(afterDown).toEqual(empty);
    const rolledBack = await migrate(url, 'status', '--json');
    expect(rolledBack.code).toBe(1);
    expect(rolledBack.json().data.migrations.every((entry: { state: string }) => entry.state === 'rolled-back')).toBe(true);

    expect((await migrate(url, 'up')).code).toBe(0);
    expect(await catalogSnapshot(url)).toEqual(migrated);
  });
});
