import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseLsn } from '../pg/lsn.js';
import type { ServerPosition, Slot, WalSender } from '../pg/queries.js';
import type { NodeSpec, ReplicationSpec } from '../spec/schema.js';
import { assess } from './assess.js';
import type { NodeObservation } from './observe.js';

const replication: ReplicationSpec = { user: 'replicator', maxSlotWalKeepSizeMb: 100, walKeepSizeMb: 0, maxWalSenders: 10, maxReplicationSlots: 10, sync: 0 };
const pg1: NodeSpec = { name: 'pg1', host: '127.0.0.1', port: 5432 };
const pg2: NodeSpec = { name: 'pg2', host: '127.0.0.1', port: 5433, upstream: 'pg1' };

function position(over: Partial<ServerPosition>): ServerPosition {
  return { inRecovery: false, timeline: 1, lsn: parseLsn('0/10000000'), replayLsn: null, receiverStatus: null, upstreamHost: null, upstreamPort: null, ...over };
}
function sender(over: Partial<WalSender> = {}): WalSender {
  return { applicationName: 'pg2', clientAddr: '127.0.0.1', state: 'streaming', sentLsn: null, flushLsn: null, replayLsn: null, replayLagMs: 7, syncState: 'async', ...over };
}
function slot(over: Partial<Slot> = {}): Slot {
  return { name: 'pg2', active: true, restartLsn: parseLsn('0/10000000'), walStatus: 'reserved', ...over };
}
function obs(node: NodeSpec, over: Partial<NodeObservation>): NodeObservation {
  return { node, running: true, position: null, senders: [], slots: [], error: null, diverged: false, ...over };
}

const healthyPrimary = obs(pg1, { position: position({}), senders: [sender()], slots: [slot()] });
const replicaAt = (lsn: string): NodeObservation => obs(pg2, { position: position({ inRecovery: true, lsn: parseLsn(lsn), replayLsn: parseLsn(lsn), receiverStatus: 'streaming' }) });

test('a caught-up replica streams with zero lag and no warnings', () => {
  const status = assess([healthyPrimary, replicaAt('0/10000000')], replication);
  assert.deepEqual(status.warnings, []);
  const replica = status.nodes[1]!;
  assert.equal(replica.state, 'streaming');
  assert.equal(replica.lagBytes, 0);
  assert.equal(replica.replayLagMs, 0);
  assert.equal(replica.syncState, 'async');
});

test('a lagging replica reports bytes and the walsender replay lag', () => {
  const replica = assess([healthyPrimary, replicaAt('0/FFFF000')], replication).nodes[1]!;
  assert.equal(replica.lagBytes, 0x1000);
  assert.equal(replica.replayLagMs, 7);
});

test('a stopped replica with an inactive slot near the cap gives both warnings', () => {
  const primary = obs(pg1, { position: position({ lsn: parseLsn('0/10000000') }), slots: [slot({ active: false, restartLsn: parseLsn('0/9000000') })] });
  const status = assess([primary, obs(pg2, { running: false })], replication);
  assert.equal(status.nodes[1]!.state, 'stopped');
  assert.equal(status.nodes[1]!.lagBytes, null);
  assert.equal(status.nodes[1]!.replayLagMs, null);
  assert.deepEqual(status.warnings, [
    'slot pg2 on pg1 is inactive and retains 112.0 MB of WAL',
    'slot pg2 on pg1 retains 112.0 MB, near the 100.0 MB cap (max_slot_wal_keep_size); past it the replica must be re-cloned',
    'replica pg2 is not streaming (stopped)',
  ]);
});

test('an invalidated slot and an orphan slot are called out', () => {
  const primary = obs(pg1, { position: position({}), senders: [sender()], slots: [slot({ walStatus: 'lost', active: false, restartLsn: null }), slot({ name: 'old' })] });
  const warnings = assess([primary, replicaAt('0/10000000')], replication).warnings;
  assert.ok(warnings.some((w) => /slot pg2 on pg1 was invalidated .* must be re-cloned/.test(w)));
  assert.ok(warnings.some((w) => /slot old on pg1 belongs to no node/.test(w)));
});

test('a replica that left recovery is flagged as a second writable server', () => {
  const promoted = obs(pg2, { position: position({ inRecovery: false }) });
  const status = assess([healthyPrimary, promoted], replication);
  assert.equal(status.nodes[1]!.state, 'promoted');
  assert.ok(status.warnings.some((w) => /pg2 is not in recovery: it accepts writes/.test(w)));
});

test('a fenced former primary is shown as diverged with the way back', () => {
  const status = assess([healthyPrimary, obs(pg2, { running: false, diverged: true })], replication);
  assert.equal(status.nodes[1]!.state, 'diverged');
  assert.ok(status.warnings.includes('pg2 is a fenced former primary: bring it back with `pgrepl rejoin pg2`'));
});

test('a replica streaming from somewhere other than its upstream is not reported as streaming', () => {
  const primaryWithoutSender = obs(pg1, { position: position({}), slots: [slot()] });
  const status = assess([primaryWithoutSender, replicaAt('0/10000000')], replication);
  assert.equal(status.nodes[1]!.state, 'not streaming');
});

test('a replica ahead of the primary or on another timeline has no lag figure', () => {
  const ahead = assess([healthyPrimary, replicaAt('0/20000000')], replication).nodes[1]!;
  assert.equal(ahead.lagBytes, null);
  const otherTimeline = obs(pg2, { position: position({ inRecovery: true, timeline: 2, lsn: parseLsn('0/10000000'), replayLsn: parseLsn('0/10000000') }) });
  assert.equal(assess([healthyPrimary, otherTimeline], replication).nodes[1]!.lagBytes, null);
});
