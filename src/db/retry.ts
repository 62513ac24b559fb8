/**
 * Exponential backoff with full jitter (sleep a random time between 0 and min(cap, base * 2^n)), bounded by an
 * overall deadline: no attempt starts and no sleep runs past it. Full jitter keeps many clients that failed
 * together (a Neon compute waking up) from retrying together.
 */
export interface RetryPolicy {
  maxAttempts: number;
  deadlineMs: number;
  baseDelayMs?: number;
  maxDelayMs?: number;
  /** A number in [0, 1); Math.random by default. Injected by tests, so jitter is reproducible. */
  random?: () => number;
  /** The wall clock and the sleep; the real ones by default. Injected by tests, so they need no real waiting. */
  clock?: Clock;
}

export interface Clock {
  now(): number;
  sleep(ms: number): Promise<void>;
}

const realClock: Clock = {
  now: () => Date.now(),
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
};

export interface AttemptFailure<F> {
  attempt: number;
  maxAttempts: number;
  failure: F;
  /** Undefined when no further attempt will be made. */
  nextDelayMs?: number;
}

export interface RetryOutcome<T, F> {
  value?: T;
  failure?: F;
  attempts: number;
  elapsedMs: number;
  /** True when the deadline, not the attempt count or a fatal failure, ended the retries. */
  deadlineReached: boolean;
}

export async function retry<T, F extends { transient: boolean }>(
  attempt: (context: { attempt: number; remainingMs: number }) => Promise<T>,
  classify: (error: unknown) => F,
  policy: RetryPolicy,
  onFailure: (event: AttemptFailure<F>) => void = () => {},
): Promise<RetryOutcome<T, F>> {
  const { maxAttempts, deadlineMs, baseDelayMs = 1000, maxDelayMs = 16_000, random = Math.random, clock = realClock } = policy;
  const started = clock.now();
  const elapsed = () => clock.now() - started;
  const remaining = () => deadlineMs - elapsed();
  for (let n = 1; ; n++) {
    try {
      const value = await attempt({ attempt: n, remainingMs: Math.max(1, remaining()) });
      return { value, attempts: n, elapsedMs: elapsed(), deadlineReached: false };
    } catch (error) {
      const failure = classify(error);
      const delay = Math.round(random() * Math.min(maxDelayMs, baseDelayMs * 2 ** (n - 1)));
      const canRetry = failure.transient && n < maxAttempts && remaining() > 0;
      const nextDelayMs = canRetry ? Math.min(delay, remaining()) : undefined;
      onFailure({ attempt: n, maxAttempts, failure, nextDelayMs });
      if (nextDelayMs === undefined) {
        return { failure, attempts: n, elapsedMs: elapsed(), deadlineReached: failure.transient && n < maxAttempts };
      }
      await clock.sleep(nextDelayMs);
      if (remaining() <= 0) return { failure, attempts: n, elapsedMs: elapsed(), deadlineReached: true };
    }
  }
}
