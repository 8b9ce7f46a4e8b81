import { test } from 'node:test';
import assert from 'node:assert/strict';
import { quoteConfValue, renderServerConf } from './conf.js';

test('renders replication settings with a finite slot WAL cap', () => {
  const text = renderServerConf({
    name: 'pg1', listenAddresses: ['127.0.0.1'], port: 5432, maxWalSenders: 10, maxReplicationSlots: 10,
    maxSlotWalKeepSizeMb: 2048, walKeepSizeMb: 128, synchronousStandbyNames: '', recoveryMinApplyDelay: '0', syncfsAtStartup: true,
  });
  for (const line of ["wal_level = 'replica'", 'hot_standby = on', 'hot_standby_feedback = on', 'wal_log_hints = on',
    "max_slot_wal_keep_size = '2048MB'", "recovery_init_sync_method = 'syncfs'", "cluster_name = 'pg1'", 'port = 5432']) {
    assert.ok(text.includes(line), `missing ${line}`);
  }
});

test('quotes values so a quote cannot end the string', () => {
  assert.equal(quoteConfValue("ANY 1 (\"a\",'b')"), "'ANY 1 (\"a\",''b'')'");
});

test('renders exactly the text pgrepl has always written (settings.ts is shared, the file must not drift)', () => {
  const text = renderServerConf({
    name: 'pg1', listenAddresses: ['127.0.0.1', '::1'], port: 5432, maxWalSenders: 10, maxReplicationSlots: 10,
    maxSlotWalKeepSizeMb: 2048, walKeepSizeMb: 128, synchronousStandbyNames: "ANY 1 (pg2,'x')", recoveryMinApplyDelay: '0',
  });
  assert.equal(text, [
    '# Managed by pgrepl: rewritten on every `pgrepl up`. Put your own settings in postgresql.conf',
    '# before the include line, or in postgresql.auto.conf (ALTER SYSTEM).',
    "cluster_name = 'pg1'", "listen_addresses = '127.0.0.1,::1'", 'port = 5432', "unix_socket_directories = ''",
    "password_encryption = 'scram-sha-256'", "wal_level = 'replica'", 'max_wal_senders = 10', 'max_replication_slots = 10',
    "max_slot_wal_keep_size = '2048MB'", "wal_keep_size = '128MB'", 'wal_compression = on', 'wal_log_hints = on',
    'hot_standby = on', 'hot_standby_feedback = on', "synchronous_standby_names = 'ANY 1 (pg2,''x'')'",
    "recovery_min_apply_delay = '0'", 'logging_collector = off', "log_line_prefix = '%m [%p] %q%u@%d '", 'log_replication_commands = on', '',
  ].join('\n'));
});
