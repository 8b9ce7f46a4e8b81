import { test } from 'node:test';
import assert from 'node:assert/strict';
import { nodeSettings, quorumStandbyNames, renderServerOptions } from './settings.js';

const replication = {
  name: 'replica1', maxWalSenders: 12, maxReplicationSlots: 10, maxSlotWalKeepSizeMb: 2048, walKeepSizeMb: 128,
  synchronousStandbyNames: 'ANY 1 (replica1,replica2)', recoveryMinApplyDelay: '0',
};

test('server options are one bare argv element per value, booleans as on/off', () => {
  const args = renderServerOptions(nodeSettings(replication));
  assert.deepEqual(args.slice(0, 2), ['-c', 'cluster_name=replica1']);
  for (const expected of ['wal_level=replica', 'hot_standby=on', 'max_slot_wal_keep_size=2048MB', 'max_wal_senders=12',
    'synchronous_standby_names=ANY 1 (replica1,replica2)', 'logging_collector=off']) {
    assert.ok(args.includes(expected), `missing ${expected}`);
  }
  assert.equal(args.length % 2, 0);
  assert.ok(args.every((arg, i) => (i % 2 === 0 ? arg === '-c' : !arg.includes("'"))), 'no quoting inside -c values');
});

test('connection settings follow cluster_name', () => {
  const names = nodeSettings(replication, [['port', 5433]]).map(([name]) => name);
  assert.deepEqual(names.slice(0, 3), ['cluster_name', 'port', 'password_encryption']);
});

test('a quorum of 0 is asynchronous', () => {
  assert.equal(quorumStandbyNames(0, ['a', 'b']), '');
  assert.equal(quorumStandbyNames(2, ['a', 'b', 'c']), 'ANY 2 (a,b,c)');
});
