import { CommanderError } from 'commander';
import { program } from './main.js';
import { mapUncaughtStacks } from './source-stack.js';

/**
 * The bundle's entry (dist/cli.js): parse argv and run the command. A usage error exits 2 (with the JSON
 * envelope under --json); anything else uncaught is Node's to print, its stack mapped to src/.
 */
mapUncaughtStacks();
ignoreClosedPipes();
await program.parseAsync(process.argv).catch(async (error: unknown) => {
  if (!(error instanceof CommanderError)) throw error;
  process.exitCode = error.exitCode === 0 ? 0 : 2;
  if (process.exitCode === 2 && process.argv.includes('--json')) {
    const message = error.message.replace(/^error: /, '');
    const names = new Set(program.commands.map((c) => c.name()));
    const command = process.argv.slice(2).find((arg) => names.has(arg)) ?? null;
    const envelope = {
      ok: false,
      command,
      status_code: 400,
      data: null,
      error: { code: 'USAGE_ERROR', message, hint: 'Run todo-db --help for usage.', sqlstate: null, cause: null },
    };
    process.stdout.write(`${JSON.stringify(envelope, null, 2)}\n`);
  }
});

/**
 * A reader that stops early (todo-db migrate status | head -3) leaves the rest of the output nowhere to go: it is
 * dropped, and the command still finishes with its own exit code. A migration is never cut off by a closed pipe.
 */
function ignoreClosedPipes(): void {
  for (const stream of [process.stdout, process.stderr]) {
    stream.on('error', (error: NodeJS.ErrnoException) => {
      if (error.code !== 'EPIPE') throw error;
    });
  }
}
