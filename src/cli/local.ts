import { redact } from '../config/redact.js';
import { TodoDbError } from '../core/errors.js';
import { ensureLocalServer, localServerStatus, resolveLocalDir, stopLocalServer } from '../local/index.js';
import { type GlobalFlags, runCommand } from './run.js';

export type LocalAction = 'start' | 'stop' | 'status' | 'url';

export interface LocalFlags extends GlobalFlags {
  showPassword?: boolean;
}

export function localCommand(action: LocalAction, flags: LocalFlags): Promise<void> {
  const name = `local ${action}`;
  switch (action) {
    case 'start':
      return runCommand({
        name,
        flags,
        job: async ({ settings, out }) => {
          const dir = resolveLocalDir(settings.localDir);
          const server = await out.task('Starting the local database', () => ensureLocalServer({ dir, log: (line) => out.info(line) }));
          const { password: _password, ...shown } = server;
          return shown;
        },
        render: (server, { out }) => {
          const state = server.started ? 'started' : 'already running';
          out.print(`${out.paint('green', out.symbol('ok'))} Local database ${state} at 127.0.0.1:${server.port} (data in ${server.dataDir})`);
        },
      });
    case 'stop':
      return runCommand({
        name,
        flags,
        job: ({ settings, out }) => stopLocalServer({ dir: resolveLocalDir(settings.localDir), log: (line) => out.info(line) }),
        render: ({ stopped }, { out }) =>
          out.print(`${out.paint('green', out.symbol('ok'))} ${stopped ? 'Local database stopped' : 'Local database was not running'}`),
      });
    case 'status':
      return runCommand({
        name,
        flags,
        job: ({ settings }) => localServerStatus(resolveLocalDir(settings.localDir)),
        render: (status, { out }) => {
          const state = !status.initialised ? 'not initialised' : status.running ? `running (pid ${status.pid})` : 'stopped';
          const rows: Array<[string, string]> = [
            ['state', state],
            ['directory', status.dir],
          ];
          if (status.port !== undefined) rows.push(['port', String(status.port)]);
          if (status.url) rows.push(['url', status.url]);
          out.print(`Local database\n${out.table(rows)}`);
        },
      });
    case 'url':
      return runCommand({
        name,
        flags,
        reveal: flags.showPassword === true,
        job: async ({ settings }) => {
          const status = await localServerStatus(resolveLocalDir(settings.localDir));
          if (!status.initialised || !status.url) {
            throw new TodoDbError({
              code: 'LOCAL_DATABASE_NOT_INITIALISED',
              message: `The local database in ${status.dir} has not been created yet.`,
              hint: 'Run todo-db local start (or any command that needs the database) first.',
            });
          }
          return { url: flags.showPassword ? status.url : redact(status.url), running: status.running };
        },
        render: ({ url }, { out }) => out.print(url, { reveal: flags.showPassword === true }),
      });
  }
}
