/**
 * What a command created and must remove if a signal ends it early (a shadow database, a lock file). Whoever
 * creates such a thing registers how to undo it and withdraws that once it removed the thing itself; the CLI's
 * signal handler runs whatever is still registered, then exits. A step that must finish to clean up after
 * itself (smoke's rows, created by Prisma on its own connections) runs cooperatively instead: the signal only
 * aborts its AbortSignal, and the step stops at its next safe point.
 */
import type { InterruptSignal } from './errors.js';

export interface Undo {
  /** What is removed, for the one-line message: "the shadow database todo_db_shadow_1a2b". */
  what: string;
  run: () => Promise<void>;
}

const pending = new Set<Undo>();
let cooperating = 0;

/** Registers an undo; the returned function withdraws it. */
export function registerUndo(what: string, run: () => Promise<void>): () => void {
  const undo = { what, run };
  pending.add(undo);
  return () => void pending.delete(undo);
}

/**
 * Runs every registered undo once, the latest first and one at a time, as finally blocks would have: a child
 * process is ended before the files it writes are removed, and the lock it ran under is released last.
 */
export async function undoAll(): Promise<{ removed: string[]; failed: string[] }> {
  const undos = [...pending].reverse();
  pending.clear();
  const removed: string[] = [];
  const failed: string[] = [];
  for (const undo of undos) {
    try {
      await undo.run();
      removed.push(undo.what);
    } catch {
      failed.push(undo.what);
    }
  }
  return { removed, failed };
}

/** While work runs, a signal is left to work's own AbortSignal checks. */
export async function cooperatively<T>(work: () => Promise<T>): Promise<T> {
  cooperating += 1;
  try {
    return await work();
  } finally {
    cooperating -= 1;
  }
}

export function isCooperating(): boolean {
  return cooperating > 0;
}

/** The signal a cooperative step was stopped by, from its AbortSignal. */
export function signalOf(signal: AbortSignal): InterruptSignal {
  return signal.reason === 'SIGTERM' ? 'SIGTERM' : 'SIGINT';
}

/** What a step found out once a signal stopped it (migrate up: the history read back), for the handler's report. */
export interface Finding {
  sentence: string;
  /** What ran, for --json data and the lines under the message (RunResults). */
  results?: unknown;
}

const finders = new Set<() => Promise<Finding>>();

/** Registers a finder the signal handler runs after the undos; the returned function withdraws it. */
export function registerFinder(find: () => Promise<Finding>): () => void {
  finders.add(find);
  return () => void finders.delete(find);
}

/** Runs every registered finder once; one that fails says nothing. */
export async function findAll(): Promise<Finding[]> {
  const found = [...finders];
  finders.clear();
  return (await Promise.all(found.map((find) => find().catch(() => undefined)))).filter((finding): finding is Finding => finding !== undefined);
}
