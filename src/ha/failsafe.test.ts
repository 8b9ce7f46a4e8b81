import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ActContext } from './act-context.js';
import { earlyAskIn, FailsafeTicker, keepRunningWithoutDcs } from './failsafe.js';
import { monotonic } from './lease.js';

/** Only the lease matters before anyone is asked: no peer is reached in these cases. */
const withDeadline = (deadline: number | null): ActContext => ({ lease: { deadline } }) as unknown as ActContext;

for (const [what, deadline] of [['no lease (fenced, handed over)', null], ['a lease already run out', monotonic() - 1]] as const) {
  test(`failsafe: with ${what}, nobody is asked and asking stops`, async () => {
    await assert.rejects(keepRunningWithoutDcs(withDeadline(deadline)), /not holding the lease/);
    const ticker = new FailsafeTicker(10);
    await assert.rejects(ticker.keep(withDeadline(deadline)), /not holding the lease/);
    ticker.stop();
  });
}

// [what, fencesAt, now, loopWait, ask in] with the defaults: TTL 2000 ms, margin 500 ms, loop wait 250 ms.
const EARLY: Array<[string, number | null, number, number, number | null]> = [
  ['no lease: nothing to keep', null, 0, 250, null],
  ['renewed just now: a slow renewal is waited out until the answers would only just land', 1500, 0, 250, 900],
  ['the usual renewal, a loop wait after the last: asked 650 ms in', 1500, 250, 250, 650],
  ['renewals failing for a while: never sooner than a loop wait', 1500, 1200, 250, 250],
];
for (const [what, fencesAt, now, loopWait, expected] of EARLY) {
  test(`earlyAskIn: ${what}`, () => assert.equal(earlyAskIn(fencesAt, now, loopWait), expected));
}
