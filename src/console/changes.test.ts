import { test } from 'node:test';
import assert from 'node:assert/strict';
import { changes, SETTLE_MS } from './changes.js';
import type { ConsoleNode, StatusDocument } from './types.js';

const node = (name: string, over: Partial<ConsoleNode> = {}): ConsoleNode => ({
  name, role: name === 'pg1' ? 'primary' : 'replica', host: '127.0.0.1', port: 5432, running: true,
  upstream: name === 'pg1' ? null : 'pg1', state: name === 'pg1' ? 'primary' : 'streaming', inRecovery: name !== 'pg1',
  timeline: 1, lsn: '0/3000000', replayLsn: null, lagBytes: 0, replayLagMs: 0, syncState: 'async', slots: [], ...over,
});
const doc = (nodes: ConsoleNode[], ha: Partial<StatusDocument> = {}): StatusDocument => ({ dir: '/c', nodes, warnings: [], ...ha });
const base = doc([node('pg1'), node('pg2'), node('pg3')]);

const cases: Array<{ name: string; after: StatusDocument; before?: StatusDocument; expect: Array<[string, string]> }> = [
  { name: 'nothing changed', after: base, expect: [] },
  { name: 'a replica stops', after: doc([node('pg1'), node('pg2', { running: false, state: 'stopped' }), node('pg3')]), expect: [['node-down', 'pg2 is down (stopped)']] },
  { name: 'a replica comes back', before: doc([node('pg1'), node('pg2', { running: false, state: 'stopped' }), node('pg3')]), after: base, expect: [['node-up', 'pg2 is up (streaming)']] },
  { name: 'a replica stops streaming', after: doc([node('pg1'), node('pg2', { state: 'not streaming' }), node('pg3')]), expect: [['state', 'pg2: streaming → not streaming']] },
  {
    name: 'switchover: the old primary follows the new one',
    after: doc([node('pg1', { role: 'replica', upstream: 'pg2', state: 'streaming', timeline: 2 }), node('pg2', { role: 'primary', upstream: null, state: 'primary', timeline: 2 }), node('pg3', { upstream: 'pg2', timeline: 2 })]),
    expect: [['switchover', 'switchover: pg2 is the primary, pg1 follows it'], ['state', 'pg1: primary → streaming'], ['timeline', 'pg1 is on timeline 2 (was 1)'], ['state', 'pg2: streaming → primary'], ['timeline', 'pg2 is on timeline 2 (was 1)'], ['timeline', 'pg3 is on timeline 2 (was 1)']],
  },
  {
    name: 'failover: the old primary has left the cluster',
    after: doc([node('pg2', { role: 'primary', upstream: null, state: 'primary' }), node('pg3', { upstream: 'pg2' })]),
    expect: [['failover', 'failover: pg2 is the primary; pg1 is gone'], ['state', 'pg2: streaming → primary'], ['node-removed', 'pg1 left the cluster']],
  },
  {
    name: 'a slot is invalidated',
    after: doc([node('pg1', { slots: [{ name: 'pg2', active: false, walStatus: 'lost', retainedBytes: null }] }), node('pg2'), node('pg3')]),
    expect: [['slot-invalidated', 'slot pg2 on pg1 was invalidated (max_slot_wal_keep_size): replica pg2 must be re-cloned']],
  },
  { name: 'a replica is added', after: doc([node('pg1'), node('pg2'), node('pg3'), node('pg4')]), expect: [['node-added', 'pg4 joined the cluster (replica, streaming)']] },
  { name: 'a replica is removed', after: doc([node('pg1'), node('pg2')]), expect: [['node-removed', 'pg3 left the cluster']] },
  {
    name: 'HA: the lease moves, failover is paused, an agent says why',
    before: doc([node('pg1', { agent: { url: 'x', healthy: true, reason: 'leader' } }), node('pg2'), node('pg3')], { leader: 'pg1', paused: false }),
    after: doc([node('pg1', { agent: { url: 'x', healthy: false, reason: 'lost the lease' } }), node('pg2'), node('pg3')], { leader: null, paused: true }),
    expect: [['leader', 'no node holds the leader lease'], ['paused', 'automatic failover paused'], ['agent', 'agent pg1: lost the lease'], ['agent', 'agent pg1 is unhealthy']],
  },
];

for (const c of cases) {
  test(`changes: ${c.name}`, () => {
    const { events, pending } = changes(c.before ?? base, c.after, 42);
    assert.equal(pending, null);
    assert.deepEqual(events.map((e) => [e.kind, e.message]), c.expect);
    assert.ok(events.every((e) => e.at === 42));
  });
}

test('changes: the first sample yields nothing', () => {
  assert.deepEqual(changes(null, base, 1), { events: [], pending: null });
});

test('changes: a switchover seen mid-way is named once the old primary follows', () => {
  const moved = (pg1: Partial<ConsoleNode>): StatusDocument =>
    doc([node('pg1', { role: 'replica', upstream: 'pg2', ...pg1 }), node('pg2', { role: 'primary', upstream: null, state: 'primary' }), node('pg3', { upstream: 'pg2' })]);
  const midway = moved({ running: false, state: 'stopped', timeline: null });
  const first = changes(base, midway, 1000);
  assert.deepEqual(first.pending, { from: 'pg1', to: 'pg2', since: 1000 });
  assert.ok(!first.events.some((e) => e.kind === 'switchover' || e.kind === 'failover'));
  assert.deepEqual(first.events.filter((e) => e.kind === 'primary').map((e) => e.message), ['pg2 is the primary now (was pg1)']);
  const second = changes(midway, moved({ state: 'streaming' }), 2000, first.pending);
  assert.equal(second.pending, null);
  assert.deepEqual(second.events.filter((e) => e.kind === 'switchover').map((e) => e.message), ['switchover: pg2 is the primary, pg1 follows it']);
});

test('changes: a move during this console\'s own switchover is named at once, whatever the old primary shows', () => {
  const midway = doc([node('pg1', { role: 'replica', upstream: 'pg2', running: false, state: 'diverged' }), node('pg2', { role: 'primary', upstream: null, state: 'primary' }), node('pg3', { upstream: 'pg2' })]);
  const named = changes(base, midway, 5, null, true);
  assert.equal(named.pending, null);
  assert.deepEqual(named.events.filter((e) => e.kind === 'switchover').map((e) => e.message), ['switchover: pg2 is the primary (was pg1)']);
});

test('changes: an old primary that never follows is called a failover after SETTLE_MS', () => {
  const stuck = doc([node('pg1', { role: 'replica', upstream: 'pg2', running: false, state: 'diverged' }), node('pg2', { role: 'primary', upstream: null, state: 'primary' }), node('pg3', { upstream: 'pg2' })]);
  const first = changes(base, stuck, 0);
  assert.notEqual(first.pending, null);
  assert.equal(changes(stuck, stuck, SETTLE_MS - 1, first.pending).pending, first.pending);
  const late = changes(stuck, stuck, SETTLE_MS, first.pending);
  assert.deepEqual(late.events.map((e) => e.message), ['failover: pg2 is the primary; pg1 is diverged']);
});
