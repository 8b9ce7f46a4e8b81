import { test } from 'node:test';
import assert from 'node:assert/strict';
import { UsageError } from '../errors.js';
import { validateTiming, type Timing } from './timing.js';

const cases: { name: string; timing: Timing; error?: string }[] = [
  { name: 'the intended defaults', timing: { ttlMs: 2000, loopWaitMs: 250, retryTimeoutMs: 750 } },
  { name: 'exactly at the limit', timing: { ttlMs: 2000, loopWaitMs: 500, retryTimeoutMs: 750 } },
  { name: "Patroni's defaults, in ms", timing: { ttlMs: 30000, loopWaitMs: 10000, retryTimeoutMs: 10000 } },
  {
    name: 'one ms over the limit',
    timing: { ttlMs: 2000, loopWaitMs: 501, retryTimeoutMs: 750 },
    error: 'loop wait 501 ms + 2 x retry timeout 750 ms = 2001 ms exceeds the lease TTL 2000 ms',
  },
  {
    name: 'the example of the issue',
    timing: { ttlMs: 2000, loopWaitMs: 500, retryTimeoutMs: 1000 },
    error: 'loop wait 500 ms + 2 x retry timeout 1000 ms = 2500 ms exceeds the lease TTL 2000 ms',
  },
  { name: 'TTL too short', timing: { ttlMs: 400, loopWaitMs: 10, retryTimeoutMs: 100 }, error: 'the lease TTL 400 ms is below the minimum 500 ms' },
  { name: 'retry timeout too short', timing: { ttlMs: 2000, loopWaitMs: 250, retryTimeoutMs: 50 }, error: 'the retry timeout 50 ms is below the minimum 100 ms' },
  { name: 'loop wait zero', timing: { ttlMs: 2000, loopWaitMs: 0, retryTimeoutMs: 750 }, error: 'the loop wait 0 ms is below the minimum 10 ms' },
  { name: 'not a whole number', timing: { ttlMs: 2000.5, loopWaitMs: 250, retryTimeoutMs: 750 }, error: 'the lease TTL 2000.5 is not a whole number of ms' },
  { name: 'NaN', timing: { ttlMs: 2000, loopWaitMs: Number.NaN, retryTimeoutMs: 750 }, error: 'the loop wait NaN is not a whole number of ms' },
  {
    name: 'seconds typed as ms',
    timing: { ttlMs: 30_000_000, loopWaitMs: 250, retryTimeoutMs: 750 },
    error: 'the lease TTL 30000000 ms is above the maximum 3600000 ms (1 hour): are these seconds?',
  },
];

for (const c of cases) {
  test(`validateTiming: ${c.name}`, () => {
    if (c.error === undefined) {
      assert.deepEqual(validateTiming(c.timing), c.timing);
      return;
    }
    assert.throws(
      () => validateTiming(c.timing),
      (error: unknown) => error instanceof UsageError && error.message === c.error,
    );
  });
}
