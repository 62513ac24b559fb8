import { expect, it } from 'vitest';
// @ts-ignore
import { openDatabase } from '../dist/index.js';
import { createTestDatabase } from './helpers/database.js';
it('dist works', async () => {
  const url = await createTestDatabase('smoke');
  const db = await openDatabase({ databaseUrl: url });
  const rows = await db.prisma.$queryRaw`select 1 as one`;
  expect(rows).toEqual([{ one: 1 }]);
  expect(await db.transaction(async (tx: any) => (await tx.$queryRaw`select 2 as two`)[0].two)).toBe(2);
  await db.close();
});
