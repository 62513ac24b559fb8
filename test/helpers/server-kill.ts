import { isAlive, postgresProcessesFor } from '../../src/local/process.js';

/** kill -9 of a local server's postmaster and all its children at once (its WAL buffers lost), and their end awaited. */
export async function killServer(dataDir: string): Promise<void> {
  const processes = postgresProcessesFor(dataDir);
  for (const pid of processes) process.kill(pid, 'SIGKILL');
  // kill() returns before they are gone; a start that still saw the postmaster would take it for running.
  for (const started = Date.now(); processes.some(isAlive); await new Promise((resolve) => setTimeout(resolve, 20))) {
    if (Date.now() - started > 10_000) throw new Error(`postgres processes ${processes.filter(isAlive).join(', ')} outlived kill -9 by 10 s`);
  }
}
