/** PostgreSQL's table lock levels, weakest first (Explicit Locking), and what each one makes other sessions wait for. */
export const LOCK_LEVELS = [
  'ACCESS SHARE',
  'ROW SHARE',
  'ROW EXCLUSIVE',
  'SHARE UPDATE EXCLUSIVE',
  'SHARE',
  'SHARE ROW EXCLUSIVE',
  'EXCLUSIVE',
  'ACCESS EXCLUSIVE',
] as const;
export type LockLevel = (typeof LOCK_LEVELS)[number];

/** ROW EXCLUSIVE (INSERT, UPDATE, DELETE) conflicts with SHARE and everything stronger. */
export function blocksWrites(lock: LockLevel): boolean {
  return LOCK_LEVELS.indexOf(lock) >= LOCK_LEVELS.indexOf('SHARE');
}

export function stronger(a: LockLevel, b: LockLevel): LockLevel {
  return LOCK_LEVELS.indexOf(a) >= LOCK_LEVELS.indexOf(b) ? a : b;
}

/** ACCESS SHARE (every SELECT, and the planner on each index of the table) conflicts only with ACCESS EXCLUSIVE. */
export function blocksReads(lock: LockLevel): boolean {
  return lock === 'ACCESS EXCLUSIVE';
}
