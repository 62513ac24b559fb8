/**
 * SIGINT becomes an abort signal: the job stops at a safe point and cleans up, and the command then exits 130.
 * The handler is installed once, so a second Ctrl-C quits at once, as users expect.
 */
export async function withInterrupt<T>(run: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const interrupt = new AbortController();
  const onSigint = () => interrupt.abort();
  process.once('SIGINT', onSigint);
  try {
    return await run(interrupt.signal);
  } finally {
    process.off('SIGINT', onSigint);
  }
}
