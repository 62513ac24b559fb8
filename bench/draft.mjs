// migrate create --from-schema with one change to schema.prisma (a new column), whole-process wall time, side by
// side in one run with `migrate create` (the empty templates: the process alone) and `migrate diff` (a shadow
// database alone, no engine). From the draft's own --json: how long the engine's WebAssembly took to load (it
// overlaps the shadow's creation) and how long the engine worked (introspection of the shadow and two diffs).
// Usage: node bench/draft.mjs [--runs N] [--json]
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cleanEnv, cli, createDatabase, dropDatabases, intFlag, median, root, run, startLocal } from './lib.mjs';

const runs = intFlag('--runs', 7);
const env = cleanEnv();
const local = startLocal(env);
const url = await createDatabase(local, 'bench_draft');
const benchEnv = { ...env, DATABASE_URL: url };
const copy = mkdtempSync(join(tmpdir(), 'todo-db-bench-draft-'));
cpSync(join(root, 'prisma'), join(copy, 'prisma'), { recursive: true });
const schemaPath = join(copy, 'prisma', 'schema.prisma');
writeFileSync(
  schemaPath,
  readFileSync(schemaPath, 'utf8').replace(
    '  completedAt DateTime?',
    '  archivedAt  DateTime?    @map("archived_at") @db.Timestamptz(6)\n  completedAt DateTime?',
  ),
);
const migrationsDir = join(copy, 'prisma', 'migrations');

/** Runs one command and removes the folder it created, so every run drafts the same change. */
function once(args) {
  const result = run(process.execPath, [...cli, ...args, '--migrations-dir', migrationsDir, '--json'], { env: benchEnv });
  if (result.status !== 0) throw new Error(`${args.join(' ')} exited ${result.status}: ${result.stdout}${result.stderr}`);
  for (const entry of readdirSync(migrationsDir)) if (/^\d{14}_bench/.test(entry)) rmSync(join(migrationsDir, entry), { recursive: true });
  return { ms: result.ms, data: JSON.parse(result.stdout.toString()).data };
}

try {
  const forms = { draft: ['migrate', 'create', 'bench', '--from-schema'], templates: ['migrate', 'create', 'bench'], shadowOnly: ['migrate', 'diff'] };
  const samples = { draft: [], templates: [], shadowOnly: [], engineLoad: [], engineWork: [] };
  // migrate diff exits 0 only on a migrated database; the draft itself never touches it.
  run(process.execPath, [...cli, 'migrate', 'up', '--quiet', '--migrations-dir', migrationsDir], { env: benchEnv });
  for (const args of Object.values(forms)) once(args);
  for (let i = 0; i < runs; i++) {
    const draft = once(forms.draft);
    samples.draft.push(draft.ms);
    samples.engineLoad.push(draft.data.engineLoadMs);
    samples.engineWork.push(draft.data.engineWorkMs);
    samples.templates.push(once(forms.templates).ms);
    samples.shadowOnly.push(once(forms.shadowOnly).ms);
  }
  const report = Object.fromEntries(Object.entries(samples).map(([name, values]) => [name, +median(values).toFixed(1)]));
  console.log(`runs: ${runs}, one added column, node ${process.version}`);
  console.log(`todo-db migrate create --from-schema        ${String(report.draft).padStart(7)} ms  (median, whole process)`);
  console.log(`  engine load (in process, overlaps shadow) ${String(report.engineLoad).padStart(7)} ms`);
  console.log(`  engine work (introspect + 2 diffs)        ${String(report.engineWork).padStart(7)} ms`);
  console.log(`todo-db migrate create (templates)          ${String(report.templates).padStart(7)} ms`);
  console.log(`todo-db migrate diff (shadow, no engine)    ${String(report.shadowOnly).padStart(7)} ms`);
  if (process.argv.includes('--json')) console.log(JSON.stringify(report, null, 2));
} finally {
  rmSync(copy, { recursive: true, force: true });
  await dropDatabases(local, ['bench_draft']);
}
