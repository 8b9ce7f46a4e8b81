import { UsageError } from '../errors.js';

/** The HA agent's timing settings, in ms. */
export interface Timing {
  /** How long the leader lease lives without renewal. */
  readonly ttlMs: number;
  /** Pause between two agent cycles. */
  readonly loopWaitMs: number;
  /** Longest a DCS or PostgreSQL call may take before it counts as failed. */
  readonly retryTimeoutMs: number;
}

/**
 * Floors below which the settings stop making sense on a loaded machine: a DCS round trip on
 * loopback took up to ~45 ms (p99 ~30 ms) on 2 busy cores, and a TTL under half a second leaves
 * no room for a demotion.
 */
export const TIMING_MINIMUMS: Timing = { ttlMs: 500, loopWaitMs: 10, retryTimeoutMs: 100 };
/** Above this a value is more likely seconds typed as ms than a wish (an hour). */
const MAXIMUM_MS = 3_600_000;

const LABELS: Record<keyof Timing, string> = { ttlMs: 'lease TTL', loopWaitMs: 'loop wait', retryTimeoutMs: 'retry timeout' };

/**
 * Checks the settings, Patroni's rule first: `loopWait + 2 * retryTimeout <= ttl`. A leader that
 * last renewed at t sleeps until t + loopWait, may spend retryTimeout on a renewal that fails and
 * retryTimeout more on a retry, and must still have demoted itself before the lease can expire
 * elsewhere at t + ttl. Pure; throws a UsageError whose message shows the arithmetic.
 */
export function validateTiming(timing: Timing): Timing {
  for (const key of Object.keys(LABELS) as (keyof Timing)[]) {
    const value = timing[key];
    if (!Number.isSafeInteger(value)) throw new UsageError(`the ${LABELS[key]} ${String(value)} is not a whole number of ms`);
    if (value < TIMING_MINIMUMS[key]) {
      throw new UsageError(`the ${LABELS[key]} ${value} ms is below the minimum ${TIMING_MINIMUMS[key]} ms`);
    }
    if (value > MAXIMUM_MS) throw new UsageError(`the ${LABELS[key]} ${value} ms is above the maximum ${MAXIMUM_MS} ms (1 hour): are these seconds?`);
  }
  const { ttlMs, loopWaitMs, retryTimeoutMs } = timing;
  const worst = loopWaitMs + 2 * retryTimeoutMs;
  if (worst > ttlMs) {
    throw new UsageError(
      `loop wait ${loopWaitMs} ms + 2 x retry timeout ${retryTimeoutMs} ms = ${worst} ms exceeds the lease TTL ${ttlMs} ms`,
      { hint: 'a leader could lose its lease before noticing it cannot renew: lower the loop wait or the retry timeout, or raise the TTL' },
    );
  }
  return timing;
}
