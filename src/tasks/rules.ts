import * as z from 'zod/mini';
import { type TodoDbError, usageError } from '../core/errors.js';

/**
 * The task rules every writer in todo-db applies before the database sees a row. They mirror the CHECK
 * constraints of the init migration (test/task-rules.test.ts proves the two agree), so a violation is reported
 * here, by field, instead of as a constraint name. Lengths count characters (code points), as PostgreSQL's
 * char_length does, not UTF-16 units.
 */
const TITLE_MAX = 200;
const DESCRIPTION_MAX = 1000;
const TAGS_MAX = 20;
const TAG_MAX = 10;
/** timestamptz begins at Julian day 0; JavaScript dates reach further back (and end before PostgreSQL's do). */
export const DUE_DATE_MIN = new Date(Date.UTC(-4713, 10, 24));
const TASK_STATUSES = ['pending', 'completed'] as const;
const TASK_PRIORITIES = ['low', 'medium', 'high'] as const;

export type TaskStatus = (typeof TASK_STATUSES)[number];
export type TaskPriority = (typeof TASK_PRIORITIES)[number];

export interface TaskInput {
  title: string;
  description?: string | null;
  status?: TaskStatus;
  priority?: TaskPriority;
  dueDate?: Date | null;
  tags?: string[];
}

export interface ValidTask {
  title: string;
  description: string | null;
  status: TaskStatus;
  priority: TaskPriority;
  dueDate: Date | null;
  tags: string[];
}

export interface TaskViolation {
  field: string;
  message: string;
}

export type TaskCheck = { ok: true; task: ValidTask } | { ok: false; violations: TaskViolation[] };

const chars = (text: string): number => Array.from(text).length;

/**
 * PostgreSQL text cannot hold NUL (it refuses the row), and pg encodes an unpaired UTF-16 surrogate as U+FFFD (the
 * row would silently differ from what was written). Both are refused, with the character's position.
 */
const UNSTORABLE = /[\0\p{Cs}]/u;

type Add = (field: string, message: string) => void;

/** Trimmed, lowercased, duplicates removed, first occurrence kept. */
function normalizeTags(tags: readonly string[]): string[] {
  return [...new Set(tags.map((tag) => tag.trim().toLowerCase()))];
}

const shape = z.object({
  title: z.string(),
  description: z.optional(z.nullable(z.string())),
  status: z.optional(z.enum(TASK_STATUSES)),
  priority: z.optional(z.enum(TASK_PRIORITIES)),
  dueDate: z.optional(z.nullable(z.date())),
  tags: z.optional(z.array(z.string())),
});

/**
 * `mode: 'create'` also refuses a due date in the past; existing tasks may be overdue, so updates skip that.
 */
export function checkTask(input: unknown, { mode = 'create', now = new Date() }: { mode?: 'create' | 'update'; now?: Date } = {}): TaskCheck {
  const parsed = shape.safeParse(input);
  if (!parsed.success) {
    return {
      ok: false,
      violations: parsed.error.issues.map((issue) => ({
        field: issue.path.join('.') || 'task',
        message: `${issue.path.join('.') || 'task'}: ${issue.message}`,
      })),
    };
  }
  const task: ValidTask = {
    title: parsed.data.title.trim(),
    description: parsed.data.description ?? null,
    status: parsed.data.status ?? 'pending',
    priority: parsed.data.priority ?? 'medium',
    dueDate: parsed.data.dueDate ?? null,
    tags: normalizeTags(parsed.data.tags ?? []),
  };
  const violations = ruleViolations(task, mode, now);
  return violations.length === 0 ? { ok: true, task } : { ok: false, violations };
}

function ruleViolations(task: ValidTask, mode: 'create' | 'update', now: Date): TaskViolation[] {
  const violations: TaskViolation[] = [];
  const add: Add = (field, message) => violations.push({ field, message: `${field} ${message}` });
  textRules(task, add);
  dueDateRules(task.dueDate, mode, now, add);
  return violations;
}

function textRules(task: ValidTask, add: Add): void {
  const titleLength = chars(task.title);
  if (titleLength < 1 || titleLength > TITLE_MAX) add('title', `must have 1 to ${TITLE_MAX} characters after trimming (has ${titleLength})`);
  storable('title', task.title, add);
  if (task.description !== null && chars(task.description) > DESCRIPTION_MAX) {
    add('description', `may have at most ${DESCRIPTION_MAX} characters (has ${chars(task.description)})`);
  }
  if (task.description !== null) storable('description', task.description, add);
  if (task.tags.length > TAGS_MAX) add('tags', `may hold at most ${TAGS_MAX} tags after removing duplicates (has ${task.tags.length})`);
  task.tags.forEach((tag, index) => {
    const length = chars(tag);
    if (length < 1 || length > TAG_MAX) add(`tags[${index}]`, `must have 1 to ${TAG_MAX} characters after trimming (has ${length})`);
    storable(`tags[${index}]`, tag, add);
  });
}

function storable(field: string, text: string, add: Add): void {
  const index = Array.from(text).findIndex((char) => UNSTORABLE.test(char));
  if (index !== -1) add(field, `must not contain a NUL character or an unpaired surrogate (found at character ${index + 1})`);
}

function dueDateRules(dueDate: Date | null, mode: 'create' | 'update', now: Date, add: Add): void {
  if (!dueDate) return;
  if (Number.isNaN(dueDate.getTime())) add('dueDate', 'must be a valid date');
  else if (dueDate.getTime() < DUE_DATE_MIN.getTime())
    add('dueDate', `must not be before 4714-11-24 BC, where PostgreSQL's timestamps begin (${dueDate.toISOString()})`);
  else if (mode === 'create' && dueDate.getTime() < now.getTime()) {
    add('dueDate', `must not be in the past when a task is created (${dueDate.toISOString()} is before ${now.toISOString()})`);
  }
}

/** checkTask for callers that want an exception: one TASK_INVALID error listing every violation. */
export function validateTask(input: unknown, options?: Parameters<typeof checkTask>[1]): ValidTask {
  const result = checkTask(input, options);
  if (result.ok) return result.task;
  throw taskInvalid(result.violations);
}

function taskInvalid(violations: TaskViolation[]): TodoDbError {
  return usageError(
    'TASK_INVALID',
    `The task breaks ${violations.length === 1 ? 'a rule' : `${violations.length} rules`}: ${violations.map((v) => v.message).join('; ')}.`,
    'Fix the listed fields; the rules mirror the database CHECK constraints.',
  );
}
