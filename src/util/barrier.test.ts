import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Barrier } from './barrier.js';

test('opens when the last party arrives, or when released', async () => {
  const barrier = new Barrier(2);
  let passed = false;
  const first = barrier.arrive().then(() => (passed = true));
  await Promise.resolve();
  assert.equal(passed, false);
  await barrier.arrive();
  await first;
  assert.equal(passed, true);
  const released = new Barrier(3);
  const waiting = released.arrive();
  released.release();
  await waiting;
});
