import type pg from 'pg';

/** BEGIN, the work, COMMIT; ROLLBACK on any failure, which is then rethrown. */
export async function inTransaction<T>(client: pg.Client, work: () => Promise<T>): Promise<T> {
  return committed(client, async () => {
    await client.query('begin');
    return work();
  });
}

/**
 * inTransaction with the work's first statement in BEGIN's message: a round trip less. It travels as a simple
 * query, which takes no parameters, so its values must be literals (client.escapeLiteral). COMMIT still waits for
 * the work: a client that dies before sending it leaves nothing, even if its statement completes after.
 */
export async function inTransactionFrom<R extends pg.QueryResultRow, T>(client: pg.Client, statement: string, work: (rows: R[]) => Promise<T>): Promise<T> {
  return committed(client, async () => {
    const [, first] = (await client.query(`begin; ${statement}`)) as unknown as [pg.QueryResult, pg.QueryResult<R>];
    return work(first.rows);
  });
}

async function committed<T>(client: pg.Client, work: () => Promise<T>): Promise<T> {
  try {
    const result = await work();
    await client.query('commit');
    return result;
  } catch (error) {
    await client.query('rollback').catch(() => {});
    throw error;
  }
}
