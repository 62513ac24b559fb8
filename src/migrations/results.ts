/**
 * What a run did, what failed and what it did not run (Kysely's result set), for success and failure alike: a
 * report carries it as `results`, an error as its `results`, so `--json` can put it in `data` and the text output
 * can list it, instead of leaving the user to guess from migrate status.
 */
export interface RunResults {
  /** "applied" for up, "rolled back" for down. */
  verb: 'applied' | 'rolled back';
  done: string[];
  failed: string | null;
  notRun: string[];
  /**
   * Set when the connection was lost: 'history' when done, failed and notRun are what `_prisma_migrations` said
   * on a new connection afterwards; 'unknown' when that read-back failed too, and `unknown` lists the migrations
   * that may or may not be applied. Absent, the run saw every outcome itself.
   */
  source?: 'history' | 'unknown';
  unknown?: string[];
}

export interface WithResults {
  results: RunResults;
}

/** The first `done` of `names` were done; with `failed`, the next one failed; the rest did not run. */
export function resultSet(verb: RunResults['verb'], names: string[], done: number, { failed }: { failed: boolean }): RunResults {
  const failedName = failed ? (names[done] ?? null) : null;
  return { verb, done: names.slice(0, done), failed: failedName, notRun: names.slice(done + (failedName ? 1 : 0)) };
}

/** The error, carrying the result set: the first `done` of `names` were done, the next one failed. */
export function withResults(error: unknown, verb: RunResults['verb'], names: string[], done: number): unknown {
  const results = resultSet(verb, names, done, { failed: true });
  if (error !== null && typeof error === 'object') Object.assign(error, { results });
  return error;
}

export function resultsOf(error: unknown): RunResults | undefined {
  return (error as Partial<WithResults> | null)?.results;
}

/** The result set in words, one line each, for the text output under the error. */
export function describeResults({ verb, done, failed, notRun, source, unknown = [] }: RunResults): string {
  const list = (names: string[]) => (names.length === 0 ? 'none' : names.join(', '));
  const lines = [
    `  ${verb.charAt(0).toUpperCase()}${verb.slice(1)} before the failure: ${list(done)}`,
    `  Failed: ${failed ?? 'none'}`,
    `  Not run: ${list(notRun)}`,
  ];
  if (source === 'history') lines.unshift('  As the history table says, read back on a new connection after the connection was lost:');
  if (source === 'unknown') lines.push(`  Unknown (the history could not be read back): ${list(unknown)}`);
  return lines.join('\n');
}
