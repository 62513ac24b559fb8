import { randomBytes, randomUUID } from 'node:crypto';
// Types only: Prisma Client itself is loaded by the job, when it runs (it costs about 0.35 s of start-up).
import type { PrismaClient, Task, User } from '../generated/prisma/client.js';
import { type ValidTask, validateTask } from '../tasks/rules.js';
import { Checks, SmokeCheckFailed } from './checks.js';

/** What the steps share: the client, the rows created so far, and the ids cleanup must remove. */
export interface SmokeState {
  prisma: PrismaClient;
  /** Added before each insert is sent, so a reply lost in transit cannot leave a row behind. */
  throwaway: Set<string>;
  /** Throwaway users the steps themselves deleted (the cascade step's owner). */
  deleted: number;
  owner?: User;
  input?: ValidTask;
  task?: Task;
  clock?: TaskClock;
}

export interface SmokeStepDefinition {
  name: string;
  description: string;
  /** Steps after a failed create have no task to work on; they are reported as skipped. */
  needsTask: boolean;
  run: (state: SmokeState) => Promise<void>;
}

export const STEPS: SmokeStepDefinition[] = [
  { name: 'create', description: 'create a throwaway user and a task with every field set', needsTask: false, run: createTask },
  { name: 'read', description: 'read the task back: values, defaults, timestamps, tags', needsTask: true, run: readBack },
  { name: 'update', description: 'complete and reopen it: updated_at and completed_at follow', needsTask: true, run: completeAndReopen },
  { name: 'isolation', description: 'another user cannot read the task by id', needsTask: true, run: isolation },
  { name: 'cascade', description: 'delete the user: the task goes with it', needsTask: true, run: cascade },
];

/** Database time may differ from this machine's by a little; by more than this, something is wrong. */
const CLOCK_TOLERANCE_MS = 2000;
const DAY_MS = 24 * 60 * 60 * 1000;
const TITLE = 'todo-db smoke task';
const DESCRIPTION = 'Created by todo-db smoke and deleted when the run ends.';

/** `.invalid` is reserved (RFC 2606): no mail can ever reach these addresses. */
function throwawayEmail(): string {
  return `smoke-${randomBytes(6).toString('hex')}@smoke.todo-db.invalid`;
}

/**
 * A Better Auth user as its signUpEmail writes one, but without a credential account: nobody can ever sign in as
 * a throwaway user, even if one were left behind.
 */
async function throwawayUser(state: SmokeState, name: string): Promise<User> {
  const id = randomUUID();
  state.throwaway.add(id);
  return state.prisma.user.create({ data: { id, email: throwawayEmail(), name } });
}

async function createTask(state: SmokeState): Promise<void> {
  // Given as a user would type it: the rules trim the title and normalise the tags before the database sees them.
  state.input = validateTask({
    title: `  ${TITLE}  `,
    description: DESCRIPTION,
    status: 'pending',
    priority: 'high',
    dueDate: new Date(Date.now() + 7 * DAY_MS),
    tags: [' Work ', 'URGENT', 'work'],
  });
  state.owner = await throwawayUser(state, 'todo-db smoke');
  state.task = await state.prisma.task.create({ data: { ...state.input, userId: state.owner.id } });
}

async function readBack(state: SmokeState): Promise<void> {
  const { prisma, owner, input } = state as Required<SmokeState>;
  const task = await prisma.task.findUnique({ where: { id: state.task!.id }, include: { user: true } });
  const clock = await taskClock(prisma, state.task!.id);
  if (!task) throw new SmokeCheckFailed(['the task just created cannot be found']);
  state.clock = clock;
  const check = new Checks();
  check.equal('title', task.title, TITLE);
  check.equal('description', task.description, DESCRIPTION);
  check.equal('status', task.status, 'pending');
  check.equal('priority', task.priority, 'high');
  check.equal('due_date', task.dueDate, input.dueDate);
  check.equal('tags', task.tags, ['work', 'urgent']);
  check.equal('completed_at', task.completedAt, null);
  check.equal('user_id', task.userId, owner.id);
  check.equal('user email', task.user.email, owner.email);
  check.equal('user name', task.user.name, 'todo-db smoke');
  check.equal('user emailVerified (default)', task.user.emailVerified, false);
  for (const [label, value] of [
    ['created_at', task.createdAt],
    ['updated_at', task.updatedAt],
    ['user createdAt', task.user.createdAt],
    ['user updatedAt', task.user.updatedAt],
  ] as const) {
    check.near(label, value, clock.now, CLOCK_TOLERANCE_MS);
  }
  // A time zone mix-up between the client and the database would shift this by hours, not milliseconds.
  check.that(
    'created_at',
    Math.abs(task.createdAt.getTime() - clock.createdMs) <= 1,
    `reads as ${task.createdAt.toISOString()} but is ${new Date(clock.createdMs).toISOString()} in UTC in the database`,
  );
  check.done();
}

async function completeAndReopen(state: SmokeState): Promise<void> {
  const { prisma } = state;
  const id = state.task!.id;
  const before = state.clock ?? (await taskClock(prisma, id));
  const check = new Checks();

  const completed = await prisma.task.update({ where: { id }, data: { status: 'completed' } });
  const afterCompleting = await taskClock(prisma, id);
  check.equal('status after completing', completed.status, 'completed');
  check.near('completed_at after completing', completed.completedAt, afterCompleting.now, CLOCK_TOLERANCE_MS);
  check.that('updated_at after completing', afterCompleting.updatedUs > before.updatedUs, 'did not move forward');

  const reopened = await prisma.task.update({ where: { id }, data: { status: 'pending' } });
  const afterReopening = await taskClock(prisma, id);
  check.equal('status after reopening', reopened.status, 'pending');
  check.equal('completed_at after reopening', reopened.completedAt, null);
  check.that('updated_at after reopening', afterReopening.updatedUs > afterCompleting.updatedUs, 'did not move forward');
  check.done();
}

/** The app scopes every task query to the signed-in user's id; this is that query, for the wrong user. */
async function isolation(state: SmokeState): Promise<void> {
  const { prisma } = state;
  const id = state.task!.id;
  // Another user's id, with no row: the query filters on user_id alone, so a row would change nothing it checks
  // and cost the run a round trip to create and one to remove.
  const asOther = await prisma.task.findFirst({ where: { id, userId: randomUUID() } });
  // The control: if the owner could not read it either, a null for the other user would prove nothing.
  const asOwner = await prisma.task.findFirst({ where: { id, userId: state.owner!.id } });
  const check = new Checks();
  check.that('the other user', asOther === null, 'can read the task');
  check.that('the owner', asOwner?.id === id, 'cannot read the task');
  check.done();
}

async function cascade(state: SmokeState): Promise<void> {
  const { prisma } = state;
  const ownerId = state.owner!.id;
  await prisma.user.delete({ where: { id: ownerId } });
  state.throwaway.delete(ownerId);
  state.deleted++;
  // The isolation step's query again: Prisma compiles each new query shape once, and start-up time matters here.
  const left = await prisma.task.findFirst({ where: { id: state.task!.id, userId: ownerId } });
  const check = new Checks();
  check.that('the task of the deleted user', left === null, 'is still there');
  check.done();
}

/** The task's timestamps to the microsecond (JavaScript dates stop at the millisecond) and the database clock. */
interface TaskClock {
  now: Date;
  createdMs: number;
  updatedUs: bigint;
}

async function taskClock(prisma: PrismaClient, id: string): Promise<TaskClock> {
  const rows = await prisma.$queryRaw<Array<{ now_us: string; created_us: string; updated_us: string }>>`
    select (extract(epoch from now()) * 1000000)::bigint::text as now_us,
           (extract(epoch from created_at) * 1000000)::bigint::text as created_us,
           (extract(epoch from updated_at) * 1000000)::bigint::text as updated_us
      from tasks where id = ${id}::uuid`;
  const row = rows[0];
  if (!row) throw new SmokeCheckFailed(['the task is gone']);
  return { now: new Date(Number(BigInt(row.now_us) / 1000n)), createdMs: Number(BigInt(row.created_us) / 1000n), updatedUs: BigInt(row.updated_us) };
}
