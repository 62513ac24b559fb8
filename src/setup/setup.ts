import type pg from 'pg';
import { type DatabaseUrl, describeTarget } from '../config/database-url.js';
import { defaultMigrationsDir, isInsideNodeModules } from '../config/package-root.js';
import type { Settings } from '../config/settings.js';
import { type ConnectionReport, checkConnection } from '../db/check-connection.js';
import { connect } from '../db/connect.js';
import { databaseTarget, type Purpose, type Target } from '../db/target.js';
import { Migrator } from '../migrations/index.js';
import { SEED_USER_EMAIL, type SeedReport, seedDev } from '../seed/dev.js';
import { openSmokeDatabase, runSmoke, type SmokeReport } from '../smoke/run.js';

/**
 * The newcomer's one command: a database (the local one unless configured), a connection check, the
 * migrations, the development seed (never in production) and the smoke test, in that order. Every step is
 * idempotent, so a second run changes nothing and still succeeds.
 */
export type SetupStepName = 'database' | 'connection' | 'migrations' | 'seed' | 'smoke';

export interface SetupOptions {
  settings: Settings;
  /** The database for each purpose (the CLI's, which names it). */
  target?: (purpose: Purpose) => Promise<Target>;
  log?: (line: string) => void;
  /** Each step as it finishes, for progressive output. */
  onStep?: (name: SetupStepName, summary: string, ok: boolean) => void;
  signal?: AbortSignal;
}

export interface SetupReport {
  database: string;
  local: boolean;
  connection: ConnectionReport;
  migrations: { applied: string[] };
  /** Null in production, where seeding is refused. */
  seed: SeedReport | null;
  smoke: SmokeReport;
  next: string[];
}

export async function setup({
  settings,
  target = (purpose) => databaseTarget(settings, { purpose, log }),
  log,
  onStep = () => {},
  signal,
}: SetupOptions): Promise<SetupReport> {
  const local = settings.database === undefined;
  const url = await target('runtime');
  const database = describeTarget(url);
  onStep('database', local ? `${database} (the local database)` : database, true);

  // One connection for the check, the migrations (when they go to the same database) and the seed; smoke's is
  // Prisma Client's own.
  const shared = await connect(url, { environment: settings.environment, applicationName: 'todo-db setup' });
  try {
    const connection = await checkConnection({ url, environment: settings.environment, connection: shared });
    onStep('connection', `PostgreSQL ${connection.serverVersion}, ${connection.latencyMs} ms`, true);

    const migrationsDir = settings.migrationsDir ?? defaultMigrationsDir();
    // DIRECT_DATABASE_URL when configured; otherwise the database found above (the local one is not looked up twice).
    const migrationsUrl = settings.directDatabase ? await target('migrations') : url;
    const sameDatabase = describeTarget(migrationsUrl) === database;
    // Migrated next, the same database as the same user: smoke need not check again, so its connection and Prisma
    // Client's load start now, beside the migrations and the seed. When DIRECT_DATABASE_URL names another host or
    // database, smoke opens its own and checks.
    const opened = sameDatabase ? openSmokeDatabase({ url, environment: settings.environment }) : undefined;
    opened?.catch(() => {});
    const { applied, seed } = await migrateAndSeed({ settings, migrationsUrl, url, migrationsDir, log, onStep, client: shared.client, sameDatabase }).catch(
      async (error: unknown) => {
        await opened?.then(
          (ready) => ready.close(),
          () => {},
        );
        throw error;
      },
    );

    const smoke = await runSmoke({ url, migrationsDir, environment: settings.environment, signal, opened });
    const passed = smoke.steps.filter((step) => step.status === 'passed').length;
    onStep('smoke', `${passed}/${smoke.steps.length} steps passed`, smoke.passed);

    return {
      database,
      local,
      connection,
      migrations: { applied: applied.map((step) => step.name) },
      seed,
      smoke,
      next: nextSteps({ local, seeded: seed !== null, installed: isInsideNodeModules(migrationsDir) }),
    };
  } finally {
    await shared.client.end().catch(() => {});
  }
}

interface MigrateAndSeed {
  settings: Settings;
  migrationsUrl: DatabaseUrl;
  url: DatabaseUrl;
  migrationsDir: string;
  log: SetupOptions['log'];
  onStep: NonNullable<SetupOptions['onStep']>;
  client: pg.Client;
  sameDatabase: boolean;
}

async function migrateAndSeed({ settings, migrationsUrl, url, migrationsDir, log, onStep, client, sameDatabase }: MigrateAndSeed) {
  const { environment } = settings;
  const { applied } = await new Migrator({ url: migrationsUrl, migrationsDir, environment, log, connection: sameDatabase ? client : undefined }).up();
  onStep('migrations', applied.length === 0 ? 'already up to date' : `${applied.length} applied`, true);
  const seed = environment === 'production' ? null : await seedDev({ url, environment, passwordHash: settings.passwordHash, client });
  onStep(
    'seed',
    seed === null
      ? 'skipped in production'
      : seed.users.created + seed.tasks.created === 0
        ? 'nothing to create'
        : `${seed.users.created} user and ${seed.tasks.created} tasks created`,
    true,
  );
  return { applied, seed };
}

/**
 * True for both layouts: in todo-db's own checkout the schema is changed here; where todo-db is an installed
 * dependency its migrations are read-only (MIGRATIONS_READ_ONLY), so they are changed in todo-db's repository.
 */
function nextSteps({ local, seeded, installed }: { local: boolean; seeded: boolean; installed: boolean }): string[] {
  const next = [];
  if (local) next.push('Point the app at the local database: DATABASE_URL="$(npx todo-db local url --show-password)"');
  if (seeded) next.push(`Log in as ${SEED_USER_EMAIL} (its password is in todo-db's README)`);
  if (installed) next.push("Schema changes are made in todo-db's own repository; after installing a new version, apply them with: npx todo-db migrate up");
  else next.push('Change the schema with: npx todo-db migrate create <name>, then npx todo-db migrate up');
  next.push('Check it any time with: npx todo-db health');
  return next;
}
