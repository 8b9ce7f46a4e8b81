import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { composeHba, renderPrimaryInit } from './primary-init.js';
import { REPLICA_ENTRYPOINT } from './replica-entrypoint.js';

function bashSyntaxOk(script: string): void {
  execFileSync('bash', ['-n'], { input: script });
}

test('the primary init script is valid bash: LOGIN REPLICATION only, a reserved slot per replica', () => {
  const script = renderPrimaryInit({ replicationUser: 'replicator', slots: ['replica1', 'replica2'], subnet: '10.1.2.0/24' });
  bashSyntaxOk(script);
  assert.match(script, /CREATE ROLE replicator LOGIN REPLICATION PASSWORD '\$verifier';/);
  assert.doesNotMatch(script, /SUPERUSER|CREATEDB|CREATEROLE|ALTER ROLE/);
  assert.match(script, /pg_create_physical_replication_slot\(name, true\)/);
  assert.match(script, /\('replica1'\), \('replica2'\)/);
  assert.match(script, /synchronous_commit = local/);
});

test('pg_hba.conf: scram from the Compose subnet only, no trust, no catch-all, replication role rejected for sessions', () => {
  const hba = composeHba({ replicationUser: 'replicator', subnet: '10.1.2.0/24' });
  const rules = hba.split('\n').filter((line) => line && !line.startsWith('#'));
  assert.ok(rules.includes('host replication replicator 10.1.2.0/24 scram-sha-256'));
  for (const rule of rules) {
    assert.doesNotMatch(rule, /\btrust\b|\b0\.0\.0\.0\/0\b|\ball all all\b|::\/0/, rule);
    if (rule.startsWith('host')) assert.match(rule, / (10\.1\.2\.0\/24|127\.0\.0\.1\/32) (scram-sha-256|reject)$/, rule);
    if (rule.endsWith('reject')) assert.match(rule, /^host all replicator /, rule);
  }
});

test('the replica entrypoint is valid bash, clones as postgres with a passfile, and hands over to the image', () => {
  bashSyntaxOk(REPLICA_ENTRYPOINT);
  assert.match(REPLICA_ENTRYPOINT, /as_postgres pg_basebackup -D "\$PGDATA" -X stream -c fast -R -S "\$REPLICATION_SLOT"/);
  assert.match(REPLICA_ENTRYPOINT, /passfile=\$PASSFILE/);
  assert.doesNotMatch(REPLICA_ENTRYPOINT, /password=|PGPASSWORD/);
  assert.match(REPLICA_ENTRYPOINT, /exec docker-entrypoint\.sh "\$@"\n$/);
});
