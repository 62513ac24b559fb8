import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TodoDbError } from '../src/core/errors.js';
import { type Database, openDatabase } from '../src/db/database.js';
import { checkTask, DUE_DATE_MIN, type TaskInput, type ValidTask, validateTask } from '../src/tasks/rules.js';
import { createTestDatabase } from './helpers/database.js';
import { migrateProject } from './helpers/migrations.js';
import { newUser } from './helpers/users.js';

const NOW = new Date('2026-11-23T12:00:00Z');
const DAY = 86_400_000;

// Emoji take two UTF-16 units each, so a 200-character emoji title has a JS length of 400; CJK takes one unit but
// three bytes of UTF-8. PostgreSQL, like the rules, counts characters.
const EMOJI = '😀';
const CJK = '字';
const repeat = (text: string, count: number) => text.repeat(count);

function messagesOf(input: unknown, mode: 'create' | 'update' = 'create'): string[] {
  const result = checkTask(input, { mode, now: NOW });
  return result.ok ? [] : result.violations.map((violation) => violation.message);
}

describe('task rules', () => {
  it('trims titles and counts characters, not UTF-16 units', () => {
    expect(validateTask({ title: '  Buy milk  ' }).title).toBe('Buy milk');
    expect(messagesOf({ title: repeat('a', 200) })).toEqual([]);
    expect(messagesOf({ title: repeat(EMOJI, 200) })).toEqual([]);
    expect(messagesOf({ title: repeat(CJK, 200) })).toEqual([]);
    expect(messagesOf({ title: ` ${repeat('a', 200)} ` })).toEqual([]);
    expect(messagesOf({ title: repeat('a', 201) })).toEqual(['title must have 1 to 200 characters after trimming (has 201)']);
    expect(messagesOf({ title: repeat(EMOJI, 201) })).toEqual(['title must have 1 to 200 characters after trimming (has 201)']);
    expect(messagesOf({ title: '' })).toEqual(['title must have 1 to 200 characters after trimming (has 0)']);
    expect(messagesOf({ title: ' \t\n ' })).toEqual(['title must have 1 to 200 characters after trimming (has 0)']);
  });

  it('caps descriptions at 1000 characters', () => {
    expect(messagesOf({ title: 't', description: repeat(EMOJI, 1000) })).toEqual([]);
    expect(messagesOf({ title: 't', description: null })).toEqual([]);
    expect(messagesOf({ title: 't', description: repeat('a', 1001) })).toEqual(['description may have at most 1000 characters (has 1001)']);
    expect(messagesOf({ title: 't', description: repeat(CJK, 1001) })).toEqual(['description may have at most 1000 characters (has 1001)']);
  });

  it('normalises tags, then counts them and their characters', () => {
    expect(validateTask({ title: 't', tags: ['  Work ', 'work', 'HOME', 'home '] }).tags).toEqual(['work', 'home']);
    const twenty = Array.from({ length: 20 }, (_, i) => `tag${i}`);
    // 25 given, 20 after removing duplicates: allowed.
    expect(messagesOf({ title: 't', tags: [...twenty, 'TAG0', 'tag1 ', ' tag2', 'Tag3', 'tag4'] })).toEqual([]);
    expect(messagesOf({ title: 't', tags: [...twenty, 'tag20'] })).toEqual(['tags may hold at most 20 tags after removing duplicates (has 21)']);
    expect(messagesOf({ title: 't', tags: [repeat(EMOJI, 10), repeat(CJK, 10)] })).toEqual([]);
    expect(messagesOf({ title: 't', tags: ['ok', repeat('a', 11)] })).toEqual(['tags[1] must have 1 to 10 characters after trimming (has 11)']);
    expect(messagesOf({ title: 't', tags: ['   '] })).toEqual(['tags[0] must have 1 to 10 characters after trimming (has 0)']);
  });

  it('refuses a past due date when creating, not when updating', () => {
    const past = new Date(NOW.getTime() - DAY);
    expect(messagesOf({ title: 't', dueDate: new Date(NOW.getTime() + DAY) })).toEqual([]);
    expect(messagesOf({ title: 't', dueDate: past })).toEqual([
      'dueDate must not be in the past when a task is created (2026-11-22T12:00:00.000Z is before 2026-11-23T12:00:00.000Z)',
    ]);
    expect(messagesOf({ title: 't', dueDate: past }, 'update')).toEqual([]);
    expect(messagesOf({ title: 't', dueDate: new Date(DUE_DATE_MIN.getTime() - 1) }, 'update')).toEqual([
      "dueDate must not be before 4714-11-24 BC, where PostgreSQL's timestamps begin (-004713-11-23T23:59:59.999Z)",
    ]);
  });

  it('refuses characters PostgreSQL cannot store as given', () => {
    expect(messagesOf({ title: 'a\0b' })).toEqual(['title must not contain a NUL character or an unpaired surrogate (found at character 2)']);
    expect(messagesOf({ title: `${EMOJI}x\uD800` })).toEqual(['title must not contain a NUL character or an unpaired surrogate (found at character 3)']);
    expect(messagesOf({ title: 't', description: '\0' })).toEqual([
      'description must not contain a NUL character or an unpaired surrogate (found at character 1)',
    ]);
    expect(messagesOf({ title: 't', tags: ['ok', 'a\uDC00'] })).toEqual([
      'tags[1] must not contain a NUL character or an unpaired surrogate (found at character 2)',
    ]);
  });

  it('names every broken rule in one TASK_INVALID usage error', () => {
    const error = (() => {
      try {
        validateTask({ title: '', tags: [repeat('a', 11)] }, { now: NOW });
      } catch (caught) {
        return caught;
      }
    })();
    expect(error).toBeInstanceOf(TodoDbError);
    expect(error).toMatchObject({ code: 'TASK_INVALID', kind: 'usage' });
    expect((error as Error).message).toBe(
      'The task breaks 2 rules: title must have 1 to 200 characters after trimming (has 0); tags[0] must have 1 to 10 characters after trimming (has 11).',
    );
  });

  it('names the field of a value of the wrong type', () => {
    expect(checkTask({ title: 42 })).toMatchObject({ ok: false, violations: [{ field: 'title' }] });
    expect(checkTask({ title: 't', priority: 'urgent' })).toMatchObject({ ok: false, violations: [{ field: 'priority' }] });
  });
});

describe('the rules and the database CHECKs agree', () => {
  let db: pg.Client;
  let userId: string;

  beforeAll(async () => {
    // pg sends a Date in the process's time zone, dropping the seconds of historic offsets (Amsterdam was +00:19:32
    // until 1937), which would move the boundary dates below; in UTC it sends them exactly.
    pg.defaults.parseInputDatesAsUTC = true;
    const url = await createTestDatabase('rules');
    await migrateProject(url);
    db = new pg.Client({ connectionString: url });
    await db.connect();
    userId = (await db.query<{ id: string }>(`insert into "user" (id, email, name) values ('rules', 'rules@example.com', 'Rules') returning id`)).rows[0]!.id;
  });

  afterAll(async () => {
    pg.defaults.parseInputDatesAsUTC = false;
    await db?.end();
  });

  interface RawTask {
    title: string;
    description?: string | null;
    tags?: string[];
    due_date?: Date | null;
  }

  /** Inserts exactly what it is given, no normalisation; returns the stored row or the database's error. */
  async function insertRaw(task: RawTask): Promise<RawTask | pg.DatabaseError> {
    try {
      const { rows } = await db.query<RawTask>(
        'insert into tasks (user_id, title, description, tags, due_date) values ($1, $2, $3, $4, $5) returning title, description, tags, due_date',
        [userId, task.title, task.description ?? null, task.tags ?? [], task.due_date ?? null],
      );
      return rows[0]!;
    } catch (error) {
      if (error instanceof pg.DatabaseError) return error;
      throw error;
    }
  }

  const stored = (task: ValidTask): RawTask => ({ title: task.title, description: task.description, tags: task.tags, due_date: task.dueDate });

  const accepted: Array<[string, TaskInput, ('create' | 'update')?]> = [
    ['a one-character title', { title: 'a' }],
    ['a 200-character title', { title: repeat('a', 200) }],
    ['a 200-emoji title', { title: repeat(EMOJI, 200) }],
    ['a 200-character CJK title', { title: repeat(CJK, 200) }],
    ['a title of 200 characters inside spaces', { title: `  ${repeat(CJK, 200)}  ` }],
    ['hostile text', { title: `'; DROP TABLE tasks; --`, description: `"quotes" 'single' \\ backslash $1 %s \u00a0nbsp\ttab\nnewline ${EMOJI}` }],
    ['an empty description', { title: 't', description: '' }],
    ['a 1000-emoji description', { title: 't', description: repeat(EMOJI, 1000) }],
    ['20 tags', { title: 't', tags: Array.from({ length: 20 }, (_, i) => `t${i}`) }],
    ['tags that need normalising', { title: 't', tags: ['  Work ', 'WORK', 'Home'] }],
    ['10-character tags of emoji and CJK', { title: 't', tags: [repeat(EMOJI, 10), repeat(CJK, 10), repeat('a', 10)] }],
    // Lowercasing can lengthen a tag: İ becomes i and a combining dot.
    ['a tag that lowercases to more characters', { title: 't', tags: ['İİİİİ'] }],
    ['a future due date', { title: 't', dueDate: new Date(NOW.getTime() + DAY) }, 'create'],
    ['an overdue date on update', { title: 't', dueDate: new Date('2001-01-01T00:00:00Z') }, 'update'],
    ['the earliest due date', { title: 't', dueDate: DUE_DATE_MIN }, 'update'],
    ['a due date in 9999', { title: 't', dueDate: new Date('9999-12-31T23:59:59.999Z') }, 'create'],
  ];

  it.each(accepted)('what the rules accept, the database stores unchanged: %s', async (_name, input, mode = 'create') => {
    const task = validateTask(input, { mode, now: mode === 'create' ? NOW : undefined });
    expect(await insertRaw(stored(task))).toEqual(stored(task));
  });

  const refused: Array<[string, RawTask, string]> = [
    ['a 201-character title', { title: repeat('a', 201) }, '22001'],
    ['a 201-emoji title', { title: repeat(EMOJI, 201) }, '22001'],
    ['a 201-character CJK title', { title: repeat(CJK, 201) }, '22001'],
    ['a title of spaces', { title: '   ' }, 'tasks_title_length_check'],
    ['an empty title', { title: '' }, 'tasks_title_length_check'],
    ['a 1001-character description', { title: 't', description: repeat('a', 1001) }, '22001'],
    ['a 1001-emoji description', { title: 't', description: repeat(EMOJI, 1001) }, '22001'],
    ['21 tags', { title: 't', tags: Array.from({ length: 21 }, (_, i) => `t${i}`) }, 'tasks_tags_count_check'],
    ['an 11-character tag', { title: 't', tags: [repeat('a', 11)] }, 'tasks_tags_valid_check'],
    ['an 11-emoji tag', { title: 't', tags: [repeat(EMOJI, 11)] }, 'tasks_tags_valid_check'],
    ['an uppercase tag', { title: 't', tags: ['Work'] }, 'tasks_tags_valid_check'],
    ['a tag with surrounding spaces', { title: 't', tags: [' work '] }, 'tasks_tags_valid_check'],
    ['an empty tag', { title: 't', tags: [''] }, 'tasks_tags_valid_check'],
    ['a NUL in a title', { title: 'a\0b' }, '22021'],
    ['a due date before 4714-11-24 BC', { title: 't', due_date: new Date(DUE_DATE_MIN.getTime() - 1) }, '22008'],
  ];

  it.each(refused)('what the rules refuse or must normalise, the database refuses raw: %s', async (_name, raw, expected) => {
    const input = { title: raw.title, description: raw.description, tags: raw.tags, dueDate: raw.due_date };
    const result = checkTask(input, { mode: 'update' });
    // Either refused, or accepted only after normalising into something else.
    if (result.ok)
      expect(stored(result.task)).not.toEqual({ ...raw, description: raw.description ?? null, tags: raw.tags ?? [], due_date: raw.due_date ?? null });
    const error = await insertRaw(raw);
    expect(error).toBeInstanceOf(pg.DatabaseError);
    const { code, constraint } = error as pg.DatabaseError;
    expect(expected.startsWith('tasks_') ? constraint : code).toBe(expected);
  });

  // The one known difference, and it is the safe way round: JavaScript's trim strips tabs, newlines and Unicode
  // spaces, PostgreSQL's btrim only spaces, so the database alone would keep a title that is just a tab.
  it('the rules are stricter than the database about blank titles of other whitespace', async () => {
    expect(checkTask({ title: '\t\u00a0' }).ok).toBe(false);
    expect(await insertRaw({ title: '\t\u00a0' })).toMatchObject({ title: '\t\u00a0' });
  });
});

describe('hostile text through Prisma Client', () => {
  let database: Database;
  let userId: string;

  beforeAll(async () => {
    const url = await createTestDatabase('rules_prisma');
    await migrateProject(url);
    database = await openDatabase({ databaseUrl: url, poolSize: 1 });
    userId = (await database.prisma.user.create({ data: newUser('hostile@example.com') })).id;
  });

  afterAll(async () => {
    await database?.close();
  });

  const hostile: Array<[string, string, string]> = [
    ['quotes', `"double" 'single' \`back\` \\'escaped\\'`, `It's "quoted" -- and /* commented */`],
    ['SQL injection', `'; DROP TABLE tasks; --`, `'); DELETE FROM users; --`],
    ['emoji', `${EMOJI} family 👨‍👩‍👧‍👦 flag 🇳🇱`, repeat('🎉', 1000)],
    ['a 200-character multi-byte title', repeat(`${EMOJI}${CJK}`, 100), `${repeat(CJK, 999)}${EMOJI}`],
  ];

  it.each(hostile)('%s round-trip unchanged', async (_name, title, description) => {
    const task = validateTask({ title, description }, { now: NOW });
    expect(task.title).toBe(title);
    const created = await database.prisma.task.create({ data: { userId, title: task.title, description: task.description } });
    const read = await database.prisma.task.findUniqueOrThrow({ where: { id: created.id } });
    expect({ title: read.title, description: read.description }).toEqual({ title, description });
  });
});
