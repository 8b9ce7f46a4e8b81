import { setTimeout as sleep } from 'node:timers/promises';
import { TimeoutError } from '../errors.js';

export interface WaitOptions {
  /** Human words for what is awaited, used in the timeout message ("pg2 to stream"). */
  readonly what: string;
  readonly timeoutMs: number;
  /** Pause between checks; checks are cheap local reads or one query. */
  readonly intervalMs?: number;
}

/**
 * Re-checks `probe` until it returns a value other than `undefined`, or throws a TimeoutError that
 * names the condition and the deadline. `probe` may throw to abort the wait at once.
 */
export async function waitFor<T>(probe: () => Promise<T | undefined> | T | undefined, options: WaitOptions): Promise<T> {
  const deadline = Date.now() + options.timeoutMs;
  const interval = options.intervalMs ?? 10;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() >= deadline) {
      throw new TimeoutError(`timed out after ${(options.timeoutMs / 1000).toFixed(1)} s waiting for ${options.what}`);
    }
    await sleep(interval);
  }
}

/** `promise`'s value, or `fallback` if it has not settled within `ms`; the timer never outlives it. */
export async function withDeadline<T>(promise: Promise<T>, ms: number, fallback: T): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<T>((resolve) => (timer = setTimeout(() => resolve(fallback), ms)));
  try {
    return await Promise.race([promise, late]);
  } finally {
    clearTimeout(timer);
  }
}
