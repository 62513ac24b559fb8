import { isNewObject, type StatementContext } from '../context.js';
import { droppedNames } from '../lock-plans.js';
import { defineRule, type RawFinding } from './rule.js';
import { commandsOn } from './statements.js';

export const dropObject = defineRule({
  id: 'drop-object',
  severity: 'error',
  on: ['DropStmt', 'AlterTableStmt'],
  firesOn: 'DROP of a column, table, type or schema (warning in down.sql for what its migration created)',
  why: 'drops data for good, and the deployed code that still uses it fails',
  fix: 'Release code that no longer uses it first, then drop it in a later migration (with an allow comment saying so)',
  check: (statement, context) => {
    const { kind, node } = statement;
    if (kind === 'AlterTableStmt') {
      return commandsOn(statement, context, 'AT_DropColumn').flatMap(({ table, name }) =>
        dropped(`column:${table}.${name}`, `drops column ${table}.${name}`, context),
      );
    }
    // Views hold no data; an index is index-without-concurrently's.
    const what = DROPPED_KINDS[String(node.removeType)];
    if (!what) return [];
    return droppedNames(node).flatMap((name) =>
      dropped(`${what}:${name}`, `drops ${what} ${name}${node.behavior === 'DROP_CASCADE' ? ' with CASCADE' : ''}`, context),
    );
  },
  examples: [
    { unsafe: 'alter table tasks drop column description;', safe: 'alter table tasks add column notes text;\nalter table tasks drop column notes;' },
    { unsafe: 'drop table tasks;', safe: 'create table scratch (id int);\ndrop table scratch;' },
    { unsafe: 'drop type task_priority;', safe: "create type mood as enum ('ok');\ndrop type mood;" },
    { unsafe: 'drop schema audit cascade;', safe: 'create schema audit;\ndrop schema audit;' },
  ],
});

const DROPPED_KINDS: Record<string, string> = { OBJECT_TABLE: 'table', OBJECT_TYPE: 'type', OBJECT_SCHEMA: 'schema', OBJECT_DOMAIN: 'type' };

/** A drop of what this run created is no finding; in down.sql, of what its migration.sql created, a warning. */
function dropped(key: string, message: string, context: StatementContext): RawFinding[] {
  if (isNewObject(context, key)) return [];
  if (context.undoes.has(key)) return [{ message: `${message} (undoing its migration)`, severity: 'warning' }];
  return [{ message }];
}
