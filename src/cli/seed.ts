import { assertSeedAllowed, SEED_TASKS, type SeedReport, seedDev } from '../seed/dev.js';
import type { Output } from './output.js';
import { type GlobalFlags, runCommand } from './run.js';

export interface SeedFlags extends GlobalFlags {
  bcryptCost?: number;
}

export function seedDevCommand(flags: SeedFlags): Promise<void> {
  return runCommand({
    name: 'seed-dev',
    flags,
    namesTarget: true,
    job: async ({ settings, out, target }) => {
      // Refused before anything else happens, including finding (or starting) a database.
      assertSeedAllowed(settings.environment);
      const url = await target('runtime');
      return out.task('Seeding the development data', () =>
        seedDev({ url, environment: settings.environment, passwordHash: settings.passwordHash, bcryptCost: flags.bcryptCost }),
      );
    },
    render: (report, { out }) => out.print(renderSeed(report, out)),
  });
}

function renderSeed(report: SeedReport, out: Output): string {
  const ok = out.paint('green', out.symbol('ok'));
  const counts = out.table([
    ['users', `${report.users.created} created, ${report.users.skipped} already present`],
    ['credential accounts', `${report.accounts.created} created, ${report.accounts.skipped} already present`],
    ['tasks', `${report.tasks.created} created, ${report.tasks.skipped} already present`],
  ]);
  const heading =
    report.users.created + report.accounts.created + report.tasks.created === 0
      ? `${ok} Nothing to create: the test user ${report.user.email} and all ${SEED_TASKS.length} seed tasks already exist`
      : `${ok} Seeded the test user ${report.user.email} and its tasks`;
  return `${heading}\n${counts}`;
}
