import type { Migrator, StepResult } from '../migrations/migrator.js';

export interface RedoReport {
  rolledBack: StepResult[];
  applied: StepResult[];
}

/**
 * `migrate redo`: the last applied migration (or the last `steps`) rolled back with its down.sql and applied
 * again, for the developer iterating on a migration. Through the migrator's own down and up, so each step keeps
 * every guarantee those give.
 */
export async function redo(migrator: Migrator, { steps = 1, yes = false }: { steps?: number; yes?: boolean } = {}): Promise<RedoReport> {
  const { rolledBack } = await migrator.down({ steps, yes });
  const newest = rolledBack[0]?.name;
  if (newest === undefined) return { rolledBack, applied: [] };
  const { applied } = await migrator.up({ to: newest });
  return { rolledBack, applied };
}
