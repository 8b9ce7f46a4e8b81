import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LagHistory } from './history.js';
import type { ConsoleNode, StatusDocument } from './types.js';

const replica = (name: string, lagBytes: number | null): ConsoleNode => ({
  name, role: 'replica', host: 'h', port: 1, running: true, upstream: 'pg1', state: 'streaming', inRecovery: true,
  timeline: 1, lsn: null, replayLsn: null, lagBytes, replayLagMs: lagBytes === null ? null : lagBytes / 10, syncState: null, slots: [],
});
const doc = (...nodes: ConsoleNode[]): StatusDocument => ({ dir: '/c', nodes, warnings: [] });

test('history keeps the last `capacity` samples, oldest first, one series per replica seen', () => {
  const history = new LagHistory(3);
  history.add(1000, doc(replica('pg2', 10)));
  history.add(2000, doc(replica('pg2', 20), replica('pg3', 5)));
  history.add(3000, doc(replica('pg2', 30)));
  history.add(4000, doc(replica('pg2', null), replica('pg3', 7)));
  assert.equal(history.size, 3);
  assert.deepEqual(history.series(), {
    times: [2, 3, 4],
    replicas: [
      { name: 'pg2', bytes: [20, 30, null], ms: [2, 3, null] },
      { name: 'pg3', bytes: [5, null, 7], ms: [0.5, null, 0.7] },
    ],
  });
});

test('history refuses a capacity that is not a positive whole number', () => {
  assert.throws(() => new LagHistory(0), RangeError);
});
