import path from 'node:path';
import { usageError } from '../core/errors.js';
import { locateProject } from './package-root.js';
import { readJson, workspaceMembers } from './workspace.js';

const SETTINGS_KEY = 'todo-db';

export interface ProjectSettings {
  /** The package.json they were read from. */
  file: string;
  /** Its "todo-db" value, unchecked: each setting validates its own part. */
  value: unknown;
}

/**
 * The project's `"todo-db": {...}` in package.json. In a workspace it is the same from every folder: the one
 * package.json of the workspace (the root's or a member's, typically the package that depends on todo-db) that
 * has the key. Two that have it would make the answer depend on where a command runs, so that is refused.
 */
export function readProjectSettings(cwd = process.cwd()): ProjectSettings | undefined {
  const { root, workspace } = locateProject(cwd);
  const folders = new Set(workspace ? [root, ...workspaceMembers(workspace)] : [root]);
  const found = [...folders].flatMap((folder) => {
    const file = path.join(folder, 'package.json');
    const manifest = readJson(file);
    return manifest && SETTINGS_KEY in manifest ? [{ file, value: manifest[SETTINGS_KEY] }] : [];
  });
  if (found.length > 1) {
    throw usageError(
      'TODO_DB_SETTINGS_CONFLICT',
      `The workspace at ${root} has "${SETTINGS_KEY}" settings in ${found.length} package.json files (${found.map((settings) => path.relative(root, settings.file)).join(', ')}); todo-db reads them from one, the same wherever in the workspace it runs.`,
      `Keep one "${SETTINGS_KEY}": {...} in the workspace: in the root package.json, or in the package that depends on todo-db. Merge the others into it and remove them.`,
    );
  }
  return found[0];
}
