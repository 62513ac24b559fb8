import { execFile, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { authDatabase } from './helpers/auth.js';

const script = fileURLToPath(new URL('./python/tasks_roundtrip.py', import.meta.url));

/** The first Python with SQLAlchemy and asyncpg (Debian: apt install python3-sqlalchemy python3-asyncpg). */
function findPython(): string | undefined {
  const candidates = [process.env.TODO_DB_TEST_PYTHON, 'python3', '/usr/bin/python3'].filter((c): c is string => !!c);
  return candidates.find((python) => spawnSync(python, ['-c', 'import sqlalchemy, asyncpg'], { stdio: 'ignore' }).status === 0);
}

const python = findPython();

interface Roundtrip {
  differences: string[];
  created: { id: string; userId: string; status: string; completedAt: string | null; createdAt: string; dueDate: string };
  completed: { status: string; completedAt: string | null; updatedAt: string };
  titles: string[];
  badTags: string;
}

describe.skipIf(!python)("the Python services' model (python/todo_models.py, SQLAlchemy with asyncpg; skipped without them)", () => {
  const app = authDatabase('python');

  it('reads and writes the tasks of a Better Auth user, with text ids, and agrees with the migrations column for column', async () => {
    const { user } = await app.ba.auth.api.signUpEmail({ body: { email: 'guido@example.com', password: 'readability counts', name: 'Guido' } });
    await app.db.prisma.task.create({ data: { userId: user.id, title: 'Written from Node' } });

    const asyncpgUrl = app.url.replace(/^postgres(ql)?:/, 'postgresql+asyncpg:');
    const { stdout } = await promisify(execFile)(python!, [script, asyncpgUrl, 'guido@example.com']);
    const result = JSON.parse(stdout) as Roundtrip;

    expect(result.differences).toEqual([]);
    expect(result.created).toMatchObject({ userId: user.id, status: 'pending', completedAt: null, dueDate: '2027-01-15T09:30:00+00:00' });
    expect(result.completed.status).toBe('completed');
    expect(result.completed.completedAt).not.toBeNull();
    expect(result.titles).toEqual(['Written from Node', 'Written from Python']);
    expect(result.badTags).toBe('23514');

    const fromPython = await app.db.prisma.task.findUniqueOrThrow({ where: { id: result.created.id }, include: { user: true } });
    expect(fromPython).toMatchObject({
      title: 'Written from Python',
      priority: 'high',
      status: 'completed',
      tags: ['python'],
      user: { email: 'guido@example.com' },
    });
  });
});
