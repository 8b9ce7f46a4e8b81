import { test } from 'node:test';
import assert from 'node:assert/strict';
import { quoteConfValue, renderServerConf } from './conf.js';

test('renders replication settings with a finite slot WAL cap', () => {
  const text = renderServerConf({
    name: 'pg1', listenAddresses: ['127.0.0.1'], port: 5432, maxWalSenders: 10, maxReplicationSlots: 10,
    maxSlotWalKeepSizeMb: 2048, walKeepSizeMb: 128, synchronousStandbyNames: '', recoveryMinApplyDelay: '0', syncfsAtStartup: true,
  });
  for (const line of ["wal_level = 'replica'", 'hot_standby = on', 'hot_standby_feedback = on', 'wal_log_hints = on',
    "max_slot_wal_keep_size = '2048MB'", 'recovery_init_sync_method = syncfs', "cluster_name = 'pg1'", 'port = 5432']) {
    assert.ok(text.includes(line), `missing ${line}`);
  }
});

test('quotes values so a quote cannot end the string', () => {
  assert.equal(quoteConfValue("ANY 1 (\"a\",'b')"), "'ANY 1 (\"a\",''b'')'");
});
