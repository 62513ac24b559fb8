import { isDeepStrictEqual } from 'node:util';

/** A step's expectations that did not hold; its message lists every one, not only the first. */
export class SmokeCheckFailed extends Error {
  constructor(readonly failures: string[]) {
    super(failures.join('; '));
    this.name = 'SmokeCheckFailed';
  }
}

/** Collects mismatches, so one run reports all the fields that are wrong. */
export class Checks {
  private readonly failures: string[] = [];

  equal(label: string, actual: unknown, expected: unknown): void {
    if (!isDeepStrictEqual(actual, expected)) this.failures.push(`${label} is ${show(actual)}, expected ${show(expected)}`);
  }

  that(label: string, holds: boolean, detail: string): void {
    if (!holds) this.failures.push(`${label} ${detail}`);
  }

  /** The database clock, not this machine's: the two may differ, and the database is what the app trusts. */
  near(label: string, actual: Date | null | undefined, databaseNow: Date, toleranceMs: number): void {
    const ok = actual instanceof Date && Math.abs(actual.getTime() - databaseNow.getTime()) <= toleranceMs;
    this.that(label, ok, `is ${show(actual)}, not within ${toleranceMs / 1000} s of the database clock (${databaseNow.toISOString()})`);
  }

  done(): void {
    if (this.failures.length > 0) throw new SmokeCheckFailed(this.failures);
  }
}

function show(value: unknown): string {
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? 'an invalid date' : value.toISOString();
  if (value === undefined) return 'missing';
  return JSON.stringify(value);
}
