import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LeaderSight } from './leader-sight.js';

const TTL = 2000;
const ttl = async (): Promise<number> => TTL;

/** A sight on a clock the test moves. */
function sightAt(): { sight: LeaderSight; at: (ms: number) => void } {
  let now = 0;
  return { sight: new LeaderSight(() => now), at: (ms) => (now = ms) };
}

// [what, reads of the revision at these times (ms), the time asked, unrenewed then]
const table: Array<[string, Array<[number, string]>, number, boolean]> = [
  ['a revision seen once is counted from then', [[100, 'r1']], 2099, false],
  ['and stands unrenewed a TTL later', [[100, 'r1'], [1100, 'r1'], [2100, 'r1']], 2100, true],
  ['a new revision restarts the count', [[0, 'r1'], [1500, 'r2'], [2000, 'r2']], 3000, false],
  ['a key out of sight for a TTL counts afresh', [[0, 'r1'], [2500, 'r1']], 2500, false],
  ['... and stands unrenewed a TTL after it is seen again', [[0, 'r1'], [2500, 'r1'], [3500, 'r1'], [4500, 'r1']], 4500, true],
  ['in sight, a gap under a TTL keeps the count', [[0, 'r1'], [1900, 'r1']], 2000, true],
  ['seen unrenewed, then not looked at for a TTL: no longer judged so', [[0, 'r1'], [2000, 'r1']], 4500, false],
];

for (const [what, reads, askedAt, expected] of table) {
  test(`leader sight: ${what}`, async () => {
    const { sight, at } = sightAt();
    for (const [t, revision] of reads) {
      at(t);
      await sight.saw(revision, ttl);
    }
    at(askedAt);
    assert.equal(sight.unrenewed(), expected);
    assert.equal(sight.staleRevision(), expected ? reads.at(-1)![1] : null);
  });
}

test('leader sight: our own write counts from when it landed; the lease granted longer is the one counted', async () => {
  const { sight, at } = sightAt();
  at(1000);
  sight.wrote('r5', TTL);
  at(2999);
  assert.equal(await sight.saw('r5', ttl), false);
  assert.equal(sight.remainingMs(), 1);
  at(3000);
  assert.equal(await sight.saw('r5', ttl), true);
  at(3100);
  assert.equal(await sight.saw('r6', async () => 5000), false, 'another holder, granted 5 s');
  at(8099);
  assert.equal(await sight.saw('r6', ttl), false);
  at(8100);
  assert.equal(await sight.saw('r6', ttl), true);
  sight.gone();
  assert.equal(sight.unrenewed(), false);
  assert.equal(sight.remainingMs(), null);
});
