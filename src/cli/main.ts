import './node20-navigator.js';
import { Command, InvalidArgumentError } from 'commander';
import pkg from '../../package.json' with { type: 'json' };

/**
 * Wiring only: commander options to command functions. Each command's module is imported when it runs, so
 * `--version` and `--help` load nothing but commander (start-up cost is measured in bench/). start.ts parses;
 * the docs test walks the commands and their flags.
 */
export const program = new Command('todo-db')
  .description("The command-line tool that owns the Todo app's PostgreSQL database.")
  .version(pkg.version, '-V, --version')
  .option('--database-url <url>', 'database URL (overrides DATABASE_URL; alone, it is used for migrations too)')
  .option('--direct-database-url <url>', 'direct (non-pooled) URL for migrations and shadow databases (overrides DIRECT_DATABASE_URL)')
  .option('--env-file <path>', 'read variables from this file instead of .env')
  .option('--json', 'print exactly one JSON document on stdout')
  .option('-q, --quiet', 'print errors only')
  .option('-v, --verbose', 'show the steps and the SQL, passwords redacted')
  .option('--no-color', 'no colour')
  .option('--migrations-dir <path>', 'another migrations folder, for tests and forks')
  .option(
    '--local-dir <path>',
    'where the local database keeps its data (default: .todo-db/ in the project: the nearest folder with a package.json outside node_modules, or the workspace root it belongs to)',
  )
  .option('--allow-insecure', 'permit sslmode=disable to a non-local host')
  .showHelpAfterError('(run todo-db --help for usage)')
  .exitOverride();

program
  .command('check-connection')
  .description('connect and report the server version, database, user, TLS and latency')
  .option('--retries <n>', 'retries after the first attempt (production default 4, i.e. 5 attempts)', integer('--retries', 0, 100))
  .option('--timeout <ms>', 'deadline for all attempts together', integer('--timeout', 1, 3_600_000))
  .option('--connect-timeout <ms>', 'timeout of one connection attempt (default 15000)', integer('--connect-timeout', 1, 600_000))
  .action(lazy(() => import('./check-connection.js').then((m) => m.checkConnectionCommand)));

const migrate = program.command('migrate').description('evolve the schema with the SQL migrations in prisma/migrations');
lockOptions(migrate.command('up'))
  .description('apply pending migrations in folder order, each in its own transaction')
  .option('--to <name>', 'stop after this migration')
  .option('--dry-run', 'print the plan and the SQL; change nothing and take no lock')
  .option('--allow-out-of-order', 'apply pending migrations that sort before the last applied one')
  .option('--allow-lint-errors', 'in production, apply even when migrate lint finds errors in what would be applied')
  .action(lazy(() => import('./migrate.js').then((m) => m.migrateUpCommand)));
lockOptions(migrate.command('down'))
  .description('roll back applied migrations with their down.sql')
  .option('--steps <n>', 'how many to roll back (default 1)', integer('--steps', 1, 10_000))
  .option('--to <name>', 'roll back every migration after this one')
  .option('--dry-run', 'print the plan and the SQL; change nothing and take no lock')
  .option('--yes', 'confirm; required when ENVIRONMENT is production')
  .action(lazy(() => import('./migrate.js').then((m) => m.migrateDownCommand)));
migrate
  .command('status')
  .description('every migration with its state; exits 1 unless all are applied and unchanged')
  .action(lazy(() => import('./migrate.js').then((m) => m.migrateStatusCommand)));
migrate
  .command('create <name>')
  .description('write <timestamp>_<slug>/migration.sql and down.sql')
  .option('--from-schema', "draft both files from prisma/schema.prisma with Prisma's schema engine (needs a database for the shadow)")
  .option('--shadow-database-url <url>', 'with --from-schema: an empty database to build the shadow in (wiped after use)')
  .action(lazy(() => import('./lifecycle.js').then((m) => m.migrateCreate)));
migrate
  .command('lint [name...]')
  .description('what the pending (or named) migrations will lock, rewrite or break, before they run; exits 1 on any error')
  .option('--all', 'lint every migration in the folder, not only the pending ones')
  .option('--offline', 'no database: the static rules only, no live table sizes')
  .option(
    '--max-blocking-rows <n>',
    'a rewrite or scan under a write-blocking lock on a table above this many rows is an error (default 10000)',
    integer('--max-blocking-rows', 0, 2_000_000_000),
  )
  .action(lazy(() => import('./lint.js').then((m) => m.migrateLintCommand)));
migrate
  .command('diff')
  .description('compare the live schema with what the migrations produce in a shadow database; exits 1 on any difference')
  .option('--schema', "also compare the migrations with prisma/schema.prisma, through Prisma's schema engine")
  .option('--comments', 'also compare comments (COMMENT ON) on tables, columns and other objects')
  .option('--shadow-database-url <url>', 'an empty database to build the shadow in, when the role cannot create databases (wiped after use)')
  .action(lazy(() => import('./migrate.js').then((m) => m.migrateDiffCommand)));
lockOptions(migrate.command('resolve'))
  .description(
    'record a migration as applied (--applied <name>) or a failed one as rolled back (--rolled-back <name>), as prisma migrate resolve does, or an applied one as changed on purpose (--edited <name>)',
  )
  .option('--applied <name>', 'record it as applied without running it; the live schema must already hold it')
  .option('--rolled-back <name>', 'mark a failed migration rolled back, so migrate up runs it again')
  .option(
    '--edited <name>',
    "record an applied migration changed on purpose: its history rows get the file's checksum (shown old and new); the live schema must be what the migrations as they read now build",
  )
  .option('--force', 'with --applied or --edited: record it without comparing the live schema with the migrations')
  .option('--yes', 'with --edited: confirm; required when ENVIRONMENT is production')
  .option('--shadow-database-url <url>', 'an empty database to build the shadow in (wiped after use)')
  .action(lazy(() => import('./lifecycle.js').then((m) => m.migrateResolve)));
lockOptions(migrate.command('baseline'))
  .description('adopt a database built without todo-db: record the longest prefix of the migrations its schema matches; exits 1 when none does')
  .option('--dry-run', 'say what would be recorded; change nothing')
  .option('--shadow-database-url <url>', 'an empty database to build the shadow in (wiped after use)')
  .action(lazy(() => import('./lifecycle.js').then((m) => m.migrateBaseline)));
lockOptions(migrate.command('reset'))
  .description('development and test only: drop what the migrations create in schema public (nothing else), apply every migration, run seed-dev')
  .option('--yes', 'confirm; required when stdin is not a terminal')
  .option(
    '--drop <name>',
    'also drop this table (or view, sequence, type, function) that no migration creates (repeatable)',
    (value: string, previous: string[] = []) => [...previous, value],
  )
  .option('--shadow-database-url <url>', 'an empty database to build the shadow in, which tells what the migrations create (wiped after use)')
  .option('--bcrypt-cost <n>', 'with TODO_DB_PASSWORD_HASH=bcrypt: bcrypt cost of the seeded password hash (default 12)', integer('--bcrypt-cost', 4, 15))
  .action(lazy(() => import('./lifecycle.js').then((m) => m.migrateReset)));
lockOptions(migrate.command('redo'))
  .description('roll back the last applied migration (or --steps n) with its down.sql and apply it again')
  .option('--steps <n>', 'how many to redo (default 1)', integer('--steps', 1, 10_000))
  .option('--yes', 'confirm; required when ENVIRONMENT is production')
  .action(lazy(() => import('./lifecycle.js').then((m) => m.migrateRedo)));

program
  .command('health')
  .description('connection and migration state; exits 1 unless healthy')
  .option('--timeout <ms>', 'deadline for the whole check (default 5000)', integer('--timeout', 1, 600_000))
  .option('--serve', 'serve GET /api/v1/health over HTTP (200 or 503) until SIGTERM')
  .option('--port <n>', 'port for --serve (default 8080)', integer('--port', 0, 65_535))
  .option('--host <address>', 'address for --serve (default 127.0.0.1)')
  .action(lazy(() => import('./health.js').then((m) => m.healthCommand)));

program
  .command('seed-dev')
  .description('create the test user and five sample tasks; idempotent, refused in production')
  .option('--bcrypt-cost <n>', 'with TODO_DB_PASSWORD_HASH=bcrypt: bcrypt cost of the password hash (default 12)', integer('--bcrypt-cost', 4, 15))
  .action(lazy(() => import('./seed.js').then((m) => m.seedDevCommand)));

program
  .command('smoke')
  .description('create, read, update and delete a throwaway user and task through Prisma Client; exits 1 on any failed step')
  .option('--junit <file>', 'also write a JUnit XML report to this file')
  .action(lazy(() => import('./smoke.js').then((m) => m.smokeCommand)));

program
  .command('setup')
  .description("the newcomer's one command: database, connection check, migrate up, seed-dev (not in production), smoke")
  .action(lazy(() => import('./setup.js').then((m) => m.setupCommand)));

program
  .command('inspect-indexes')
  .description('list the indexes of the app tables and compare them with the migrations; exits 1 when one is missing or invalid')
  .option('--table <name>', 'inspect this table instead of the app tables (repeatable)', (value: string, previous: string[] = []) => [...previous, value])
  .option('--all-tables', 'inspect every table in schema public except _prisma_migrations')
  .option('--explain', "EXPLAIN the app's canonical queries and show which index each uses")
  .option('--analyze', 'with --explain: EXPLAIN ANALYZE, which runs the (read-only) queries and shows their actual time')
  .option('--shadow-database-url <url>', 'an empty database to build the shadow in, when the role cannot create databases (wiped after use)')
  .action(lazy(() => import('./inspect.js').then((m) => m.inspectIndexesCommand)));

const LOCAL_DESCRIPTIONS = {
  start: 'start the local database (initialising it the first time)',
  stop: 'stop the local database',
  status: 'show whether the local database is initialised and running',
  url: 'print the local database URL (password redacted unless --show-password)',
};
const local = program.command('local').description('manage the embedded local PostgreSQL in .todo-db/');
for (const action of ['start', 'stop', 'status', 'url'] as const) {
  const sub = local.command(action).description(LOCAL_DESCRIPTIONS[action]);
  if (action === 'url') sub.option('--show-password', 'print the password instead of ****');
  sub.action(lazy(() => import('./local.js').then((m) => (flags: object) => m.localCommand(action, flags))));
}

/**
 * The action runs the command function from a module loaded only now; commander passes the positional
 * arguments, then the options, then the command, whose options merged with the global ones become the flags.
 */
function lazy(load: () => Promise<(...args: never[]) => Promise<void>>) {
  return async (...args: unknown[]): Promise<void> => {
    const command = args.at(-1) as Command;
    const run = (await load()) as (...args: unknown[]) => Promise<void>;
    await run(...args.slice(0, -2), command.optsWithGlobals());
  };
}

function lockOptions(command: Command): Command {
  return command
    .option('--lock-timeout <ms>', 'how long to wait for another migrator (default 30000)', integer('--lock-timeout', 1, 3_600_000))
    .option('--statement-lock-timeout <ms>', 'lock_timeout inside each migration (default 10000)', integer('--statement-lock-timeout', 1, 3_600_000));
}

function integer(flag: string, min: number, max: number) {
  return (value: string): number => {
    if (!/^\d+$/.test(value) || Number(value) < min || Number(value) > max) {
      throw new InvalidArgumentError(`${flag} must be a whole number from ${min} to ${max}.`);
    }
    return Number(value);
  };
}
