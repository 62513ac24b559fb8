// The floor for `todo-db smoke`: load Prisma Client (on a pg pool, through openDatabase), create a user and a
// task, read the task back, delete the user (the task cascades). Reads BENCH_DATABASE_URL, a migrated database.
import { randomBytes } from 'node:crypto';
import { openDatabase } from '../dist/index.js';

const db = await openDatabase({ databaseUrl: process.env.BENCH_DATABASE_URL, poolSize: 1 });
try {
  const user = await db.prisma.user.create({
    data: { id: randomBytes(16).toString('hex'), email: `baseline-${randomBytes(6).toString('hex')}@smoke.todo-db.invalid`, name: 'baseline' },
  });
  const task = await db.prisma.task.create({ data: { userId: user.id, title: 'baseline', tags: ['work'] } });
  await db.prisma.task.findUnique({ where: { id: task.id } });
  await db.prisma.user.delete({ where: { id: user.id } });
} finally {
  await db.close();
}
