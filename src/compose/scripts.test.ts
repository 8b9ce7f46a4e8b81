import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { composeHba, renderInitHook, renderNodeScript } from './node-scripts.js';
import { SCRIPTS } from './scripts.generated.js';

/** The readable sources, read from the source tree (tsc does not copy them). */
const SOURCE_DIR = fileURLToPath(new URL('../../../src/compose/scripts/', import.meta.url));

test('scripts.generated.ts is the scripts in src/compose/scripts (run node scripts/embed-compose-scripts.mjs after editing them)', () => {
  const sources = Object.fromEntries(readdirSync(SOURCE_DIR).filter((n) => n.endsWith('.sh')).map((n) => [n, readFileSync(`${SOURCE_DIR}${n}`, 'utf8')]));
  assert.deepEqual(SCRIPTS, sources);
});

test('the scripts are valid bash; the hba is filled in', () => {
  for (const script of [renderNodeScript(), renderInitHook()]) execFileSync('bash', ['-n'], { input: script });
  assert.ok(!renderNodeScript().includes('@HBA@'));
  assert.ok(renderNodeScript().includes(composeHba().trimEnd()));
});

test('pg_hba.conf: scram from the subnet only, no trust, no catch-all; the replication role is refused any session, socket too', () => {
  const rules = composeHba().split('\n').filter((line) => line && !line.startsWith('#'));
  assert.deepEqual(rules, [
    'host replication replicator 192.0.2.0/24 scram-sha-256',
    'host all replicator 192.0.2.0/24 reject',
    'host all replicator 127.0.0.1/32 reject',
    'host all all 192.0.2.0/24 scram-sha-256',
    'host all all 127.0.0.1/32 scram-sha-256',
    'local all replicator reject',
    'local all postgres peer map=pgrepl',
    'local all all scram-sha-256',
  ]);
});

test('root only reads secrets and drops to postgres: no write, chown or chmod before gosu', () => {
  const script = renderNodeScript();
  const body = /drop_privileges\(\) \{\n([\s\S]*?)\n\}/.exec(script)![1]!;
  assert.doesNotMatch(body, /chown|chmod|mkdir|>|mv |rm |touch/);
  assert.match(body, /exec gosu postgres bash "\$SELF" "\$@"/);
  // Every mode that can run as root goes through drop_privileges first.
  for (const mode of ['health', 'rewind', 'reclone', 'postgres']) assert.match(script, new RegExp(`  ${mode}\\) drop_privileges "\\$@"; `), mode);
  assert.doesNotMatch(script, /PGPASSWORD|password=/);
  assert.match(script, /pg_basebackup -D "\$PGDATA" -X stream -c fast -S "\$PGREPL_NODE" -w -d "host=\$1 port=\$PORT user=\$REPLICATION_USER passfile=\$PASSFILE" \\\n/);
});
