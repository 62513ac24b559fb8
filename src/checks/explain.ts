import type pg from 'pg';
import { TodoDbError } from '../core/errors.js';

/**
 * The app's hot queries, as the backend sends them. If one of these stops using an index, a user's task list
 * gets slower with every task they add; EXPLAIN shows it before they do.
 */
interface CanonicalQuery {
  id: string;
  description: string;
  sql: string;
  params: (sample: Sample) => unknown[];
}

const CANONICAL_QUERIES: CanonicalQuery[] = [
  {
    id: 'tasks-newest-first',
    description: "a user's tasks, newest first, first page of 50",
    sql: 'select * from tasks where user_id = $1 order by created_at desc limit 50',
    params: (s) => [s.userId],
  },
  {
    id: 'tasks-by-status',
    description: "a user's tasks by status",
    sql: 'select * from tasks where user_id = $1 and status = $2',
    params: (s) => [s.userId, s.status],
  },
  {
    id: 'tasks-with-tag',
    description: "a user's tasks with a tag",
    sql: 'select * from tasks where user_id = $1 and tags @> array[$2]::text[]',
    params: (s) => [s.userId, s.tag],
  },
  {
    id: 'tasks-due-soon',
    description: "a user's tasks due in the next 7 days",
    sql: "select * from tasks where user_id = $1 and due_date between now() and now() + interval '7 days'",
    params: (s) => [s.userId],
  },
  // Better Auth's own: signInEmail finds the user by email, then its accounts; every request reads its session.
  {
    id: 'user-by-email',
    description: 'a user by email (Better Auth signInEmail)',
    sql: 'select * from "user" where email = $1',
    params: (s) => [s.email],
  },
  {
    id: 'accounts-of-user',
    description: "a user's accounts (Better Auth signInEmail)",
    sql: 'select * from "account" where "userId" = $1',
    params: (s) => [s.userId],
  },
  {
    id: 'session-by-token',
    description: 'a session by its token (Better Auth getSession)',
    sql: 'select * from "session" where token = $1',
    params: (s) => [s.token],
  },
];

export interface ExplainResult {
  id: string;
  description: string;
  sql: string;
  parameters: unknown[];
  /** database: values of real rows (the user with the most tasks); synthetic: made up, the tables being empty. */
  parameterSource: 'database' | 'synthetic';
  /** The index names the plan uses, in plan order. */
  indexes: string[];
  /** Tables the plan reads in full. */
  seqScans: string[];
  /** In words: the indexes, or "Seq Scan on tasks". */
  uses: string;
  /** The planner's estimated total cost of the top plan node. */
  totalCost: number;
  /** With --analyze: the measured execution time. */
  actualTimeMs: number | null;
}

interface Sample {
  userId: string;
  status: string;
  tag: string;
  email: string;
  /** A session token; sessions expire, so a made-up one plans as well as a real one. */
  token: string;
  real: boolean;
}

/** Values for empty tables: the plan is still the planner's choice for the schema, just not for the data. */
const SYNTHETIC: Sample = {
  userId: '00000000-0000-4000-8000-000000000000',
  status: 'pending',
  tag: 'work',
  email: 'nobody@example.invalid',
  token: 'todo-db-explain-no-such-session',
  real: false,
};

/**
 * EXPLAIN (FORMAT JSON) of each canonical query with real values bound as parameters (the planner plans for
 * those values, as it does for the app's own first executions). With analyze the queries really run; they
 * only read.
 */
export async function explainCanonicalQueries(client: pg.Client, { analyze }: { analyze: boolean }): Promise<ExplainResult[]> {
  const sample = await sampleParameters(client);
  const results: ExplainResult[] = [];
  for (const query of CANONICAL_QUERIES) results.push(await explain(client, query, sample, analyze));
  return results;
}

async function explain(client: pg.Client, query: CanonicalQuery, sample: Sample, analyze: boolean): Promise<ExplainResult> {
  const parameters = query.params(sample);
  const options = analyze ? 'ANALYZE, FORMAT JSON' : 'FORMAT JSON';
  let document: ExplainDocument;
  try {
    const { rows } = await client.query<{ 'QUERY PLAN': ExplainDocument[] }>(`EXPLAIN (${options}) ${query.sql}`, parameters);
    document = rows[0]!['QUERY PLAN'][0]!;
  } catch (error) {
    throw new TodoDbError({
      code: 'EXPLAIN_FAILED',
      message: `EXPLAIN of ${query.description} failed: ${(error as Error).message}.`,
      hint:
        (error as { code?: string }).code === '42P01'
          ? 'The app tables do not exist yet; run todo-db migrate up.'
          : 'Run todo-db migrate status to check the schema.',
      cause: error,
    });
  }
  const { indexes, seqScans } = walk(document.Plan);
  const uses = indexes.length > 0 ? indexes.join(', ') : seqScans.map((table) => `Seq Scan on ${table}`).join(', ') || document.Plan['Node Type'];
  return {
    id: query.id,
    description: query.description,
    sql: query.sql,
    parameters,
    parameterSource: sample.real ? 'database' : 'synthetic',
    indexes,
    seqScans,
    uses,
    totalCost: document.Plan['Total Cost'],
    actualTimeMs: analyze ? (document['Execution Time'] ?? null) : null,
  };
}

interface PlanNode {
  'Node Type': string;
  'Total Cost': number;
  'Index Name'?: string;
  'Relation Name'?: string;
  Plans?: PlanNode[];
}

interface ExplainDocument {
  Plan: PlanNode;
  'Execution Time'?: number;
}

/** Every index and every sequentially scanned table in the plan tree, each once, in plan order. */
function walk(node: PlanNode, found = { indexes: [] as string[], seqScans: [] as string[] }) {
  const index = node['Index Name'];
  if (index && !found.indexes.includes(index)) found.indexes.push(index);
  const relation = node['Relation Name'];
  if (node['Node Type'] === 'Seq Scan' && relation && !found.seqScans.includes(relation)) found.seqScans.push(relation);
  for (const child of node.Plans ?? []) walk(child, found);
  return found;
}

/**
 * The user with the most tasks, since that is where a missing index hurts; their rarest status and tag, because
 * a selective value is what tasks_user_id_status_idx and tasks_tags_idx are for (a value on most of their tasks
 * is best read through the user's index alone, which would say nothing about those indexes); and their email.
 * Any part the data lacks is synthetic.
 */
async function sampleParameters(client: pg.Client): Promise<Sample> {
  const { rows } = await client
    .query<{ user_id: string; email: string; status: string | null; tag: string | null }>(`
    with heavy as (select user_id from tasks group by user_id order by count(*) desc limit 1)
    select h.user_id, u.email,
           (select t.status::text from tasks t where t.user_id = h.user_id group by t.status order by count(*), t.status limit 1) as status,
           (select tag from tasks t, unnest(t.tags) tag where t.user_id = h.user_id group by tag order by count(*), tag limit 1) as tag
      from heavy h join "user" u on u.id = h.user_id`)
    .catch(() => ({ rows: [] }));
  const row = rows[0];
  if (row) return { ...SYNTHETIC, userId: row.user_id, email: row.email, status: row.status ?? SYNTHETIC.status, tag: row.tag ?? SYNTHETIC.tag, real: true };
  const users = await client.query<{ id: string; email: string }>('select id, email from "user" limit 1').catch(() => ({ rows: [] }));
  const user = users.rows[0];
  return user ? { ...SYNTHETIC, userId: user.id, email: user.email, real: true } : SYNTHETIC;
}
