import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseLsn } from '../pg/lsn.js';
import type { ClusterSpec } from '../spec/schema.js';
import type { Standing } from './candidate.js';
import { planFailover, type FailoverSituation, type PrimaryHealth } from './failover-plan.js';

const spec = (sync: number): ClusterSpec => ({
  version: 1,
  postgres: {},
  replication: { user: 'replicator', maxSlotWalKeepSizeMb: 2048, walKeepSizeMb: 128, maxWalSenders: 10, maxReplicationSlots: 10, sync },
  nodes: [
    { name: 'pg1', host: '127.0.0.1', port: 5432 },
    { name: 'pg2', host: '127.0.0.1', port: 5433, upstream: 'pg1' },
    { name: 'pg3', host: '127.0.0.1', port: 5434, upstream: 'pg1' },
    { name: 'pg4', host: '127.0.0.1', port: 5435, upstream: 'pg2' },
  ],
});
const at = (name: string, lsn: string | null, over: Partial<Standing> = {}): Standing => ({
  name, direct: name !== 'pg4', running: true, streaming: false, delayed: false, fenced: false, timeline: 1, receivedLsn: lsn === null ? null : parseLsn(lsn), ...over,
});
const situation = (over: Partial<FailoverSituation> & { health?: PrimaryHealth } = {}): FailoverSituation => ({
  spec: spec(0), oldPrimary: 'pg1', health: 'gone', force: false, running: ['pg2', 'pg3', 'pg4'],
  standings: [at('pg2', '0/5000000'), at('pg3', '0/6000000'), at('pg4', '0/4000000')], ...over,
});

// [what, situation, candidate | refusal pattern, ahead, followers, uncompared]
const table: Array<[string, FailoverSituation, string | RegExp, string[], string[], string[]]> = [
  ['the most advanced replica', situation(), 'pg3', [], [], []],
  ['a writable primary is refused', situation({ health: 'writable' }), /pg1 is running and accepts writes/, [], [], []],
  ['an unanswering primary is refused', situation({ health: 'unreachable' }), /did not answer within 1 s/, [], [], []],
  ['forced past a writable primary', situation({ health: 'writable', force: true }), 'pg3', [], [], []],
  ['a dying primary is not refused', situation({ health: 'dying' }), 'pg3', [], [], []],
  ['--to a replica behind is refused', situation({ to: 'pg2' }), /pg2 has received 16777216 bytes less WAL than pg3/, [], [], []],
  ['--to forced: the one ahead is fenced after', situation({ to: 'pg2', force: true }), 'pg2', ['pg3'], [], []],
  ['fenced replicas are never candidates (and stay fenced)', situation({ standings: [at('pg2', '0/5000000'), at('pg3', '0/6000000', { fenced: true })] }), 'pg2', ['pg3'], [], []],
  ['nothing to promote', situation({ standings: [at('pg2', null, { running: false }), at('pg3', null, { running: false })] }), /no replica can be promoted/, [], [], []],
  ['sync: direct running replicas behind follow first', situation({ spec: spec(1) }), 'pg3', [], ['pg2'], []],
  ['sync: a stopped one does not follow', situation({ spec: spec(1), running: ['pg3'] }), 'pg3', [], [], []],
  ['sync: an unknown quorum member is named', situation({ spec: spec(1), standings: [at('pg2', null, { running: false }), at('pg3', '0/6000000')] }), 'pg3', [], [], ['pg2']],
];

for (const [what, s, expected, ahead, followers, uncompared] of table) {
  test(`planFailover: ${what}`, () => {
    if (expected instanceof RegExp) {
      assert.throws(() => planFailover(s), expected);
      return;
    }
    const plan = planFailover(s);
    assert.equal(plan.candidate.name, expected);
    assert.deepEqual([plan.ahead, plan.followers, plan.uncompared], [ahead, followers, uncompared]);
    assert.equal(plan.fence, 'pg1');
    assert.match(plan.reason, new RegExp(`promote ${expected} .* after fencing pg1`));
  });
}
