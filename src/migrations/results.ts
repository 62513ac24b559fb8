/**
 * What a run did before it failed (Kysely's result set): the error carries it, so `--json` can put it in `data`
 * and the text output can list it, instead of leaving the user to guess from migrate status.
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

/** The error, carrying the result set: the first `done` of `names` were done, the next one failed. */
export function withResults(error: unknown, verb: RunResults['verb'], names: string[], done: number): unknown {
  const results: RunResults = { verb, done: names.slice(0, done), failed: names[done] ?? null, notRun: names.slice(done + 1) };
  if (error !== null && typeof error === 'object') Object.assign(error, { results });
  return error;
}

export function resultsOf(error: unknown): RunResults | undefined {
  return (error as Partial<WithResults> | null)?.results;
}

/** The result set in words, one line each, for the text output under the error. */
export function describeResults({ verb, done, failed, notRun, source, unknown = [] }: RunResults): string {
  const list = (names: string[]) => (names.length === 0 ? 'none' : names.join(', '));
  const lines = [`  ${verb.charAt(0).toUpperCase()}${verb.slice(1)} before the failure: ${list(done)}`, `  Failed: ${failed ?? 'none'}`, `  Not run: ${list(notRun)}`];
  if (source === 'history') lines.unshift('  As the history table says, read back on a new connection after the connection was lost:');
  if (source === 'unknown') lines.push(`  Unknown (the history could not be read back): ${list(unknown)}`);
  return lines.join('\n');
}
