import { test } from 'node:test';
import assert from 'node:assert/strict';
import { renderHba } from './hba.js';

test('admits replication only for the role from node addresses, all with scram', () => {
  const text = renderHba({ replicationUser: 'replicator', nodeAddresses: ['127.0.0.1', '127.0.0.1', '10.0.0.2'], clientAddresses: ['127.0.0.1'] });
  const rules = text.split('\n').filter((l) => l && !l.startsWith('#'));
  assert.deepEqual(rules, [
    'host replication replicator 127.0.0.1/32 scram-sha-256',
    'host replication replicator 10.0.0.2/32 scram-sha-256',
    'host all replicator 127.0.0.1/32 reject',
    'host all all 127.0.0.1/32 scram-sha-256',
  ]);
  assert.doesNotMatch(text, /trust|0\.0\.0\.0\/0|\bmd5\b/);
});

test('a node on another loopback address also admits 127.0.0.1, the source Linux gives every loopback connection', () => {
  const text = renderHba({ replicationUser: 'replicator', nodeAddresses: ['127.0.0.2', '127.0.0.3'], clientAddresses: ['127.0.0.2'] });
  const rules = text.split('\n').filter((l) => l && !l.startsWith('#'));
  assert.deepEqual(rules, [
    'host replication replicator 127.0.0.2/32 scram-sha-256',
    'host replication replicator 127.0.0.3/32 scram-sha-256',
    'host replication replicator 127.0.0.1/32 scram-sha-256',
    'host all replicator 127.0.0.2/32 reject',
    'host all replicator 127.0.0.1/32 reject',
    'host all all 127.0.0.2/32 scram-sha-256',
    'host all all 127.0.0.1/32 scram-sha-256',
  ]);
  const routable = renderHba({ replicationUser: 'replicator', nodeAddresses: ['10.0.0.2'], clientAddresses: ['10.0.0.2'] });
  assert.doesNotMatch(routable, /127\.0\.0\.1/, 'no loopback rule where no node is on loopback');
});
