import { describe, expect, it } from 'vitest';
import { type AttemptFailure, type Clock, retry } from '../src/db/retry.js';

/** Backoff on a fake clock and a scripted random source: exact delays, exact deadlines, no real waiting. */

function fakeClock(): Clock & { slept: number[]; advance(ms: number): void } {
  let now = 0;
  const slept: number[] = [];
  return {
    slept,
    now: () => now,
    advance: (ms) => {
      now += ms;
    },
    sleep: async (ms) => {
      slept.push(ms);
      now += ms;
    },
  };
}

const transient = () => ({ transient: true });
const fatal = () => ({ transient: false });
/** Fails `failures` times (each attempt taking `attemptMs` of the clock), then succeeds. */
const failing = (clock: ReturnType<typeof fakeClock>, failures: number, attemptMs = 0) => {
  let calls = 0;
  return async () => {
    clock.advance(attemptMs);
    if (++calls <= failures) throw new Error('refused');
    return 'connected';
  };
};

describe('retry', () => {
  it('sleeps random * min(cap, base * 2^n): full jitter, exactly', async () => {
    const clock = fakeClock();
    const randoms = [0.5, 0.25, 1, 0.1, 0.9];
    const events: AttemptFailure<{ transient: boolean }>[] = [];
    const outcome = await retry(
      failing(clock, 5),
      transient,
      { maxAttempts: 10, deadlineMs: 1_000_000, baseDelayMs: 1000, maxDelayMs: 4000, random: () => randoms.shift() ?? 0, clock },
      (event) => events.push(event),
    );
    expect(outcome).toMatchObject({ value: 'connected', attempts: 6, deadlineReached: false });
    expect(clock.slept).toEqual([500, 500, 4000, 400, 3600]);
    expect(events.map((event) => event.nextDelayMs)).toEqual([500, 500, 4000, 400, 3600]);
    expect(outcome.elapsedMs).toBe(9000);
  });

  it('never sleeps past the deadline, and says the deadline ended it', async () => {
    const clock = fakeClock();
    const outcome = await retry(failing(clock, 100, 300), transient, { maxAttempts: 100, deadlineMs: 4000, random: () => 0.999, clock });
    expect(outcome.value).toBeUndefined();
    expect(outcome.deadlineReached).toBe(true);
    expect(outcome.elapsedMs).toBeLessThanOrEqual(4000);
    expect(outcome.elapsedMs).toBeGreaterThanOrEqual(4000 - 300);
  });

  it('stops at the attempt count, and at once on a fatal failure', async () => {
    const counted = fakeClock();
    const byCount = await retry(failing(counted, 100), transient, { maxAttempts: 3, deadlineMs: 1_000_000, random: () => 0, clock: counted });
    expect(byCount).toMatchObject({ attempts: 3, deadlineReached: false });
    const fatalClock = fakeClock();
    const byFatal = await retry(failing(fatalClock, 100), fatal, { maxAttempts: 3, deadlineMs: 1_000_000, clock: fatalClock });
    expect(byFatal).toMatchObject({ attempts: 1, deadlineReached: false });
    expect(fatalClock.slept).toEqual([]);
  });

  it('with a server that wakes after 3 s, connects on the first attempt after it wakes', async () => {
    const clock = fakeClock();
    const wakesAt = 3000;
    let attempts = 0;
    const outcome = await retry(
      async () => {
        attempts++;
        if (clock.now() < wakesAt) throw new Error('refused');
        return 'connected';
      },
      transient,
      { maxAttempts: 11, deadlineMs: 40_000, random: () => 0.5, clock },
    );
    // Delays 500, 1000, 2000: the fourth attempt, at 3.5 s, is the first after the wake-up.
    expect(outcome).toMatchObject({ value: 'connected', attempts: 4, elapsedMs: 3500 });
    expect(attempts).toBe(4);
  });
});
