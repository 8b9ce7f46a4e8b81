import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ActContext } from './act-context.js';
import { FailsafeTicker, keepRunningWithoutDcs } from './failsafe.js';
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
