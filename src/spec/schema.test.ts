import { test } from 'node:test';
import assert from 'node:assert/strict';
import { clusterSpecSchema } from './schema.js';
import { hbaAddress, hbaName, quoteConfValue } from '../pg/quote.js';
import { renderHba } from '../pg/hba.js';

function spec(patch: { node?: Record<string, unknown>; replication?: Record<string, unknown>; postgres?: Record<string, unknown> }): unknown {
  return {
    version: 1,
    postgres: { ...patch.postgres },
    replication: { ...patch.replication },
    nodes: [{ name: 'pg1', host: '127.0.0.1', port: 5432 }, { name: 'pg2', host: '127.0.0.1', port: 5433, upstream: 'pg1', ...patch.node }],
  };
}

/** [field, value, accepted]: every field that reaches a PostgreSQL file or a command line. */
const cases: Array<[string, string, unknown, boolean]> = [
  ['host', 'IPv4', '10.0.0.2', true],
  ['host', 'IPv6', '::1', true],
  ['host', 'IPv6 full', 'fd00:1:2::5', true],
  ['host', 'DNS name', 'db-2.example.internal', true],
  ['host', 'single label', 'localhost', true],
  ['host', 'injected hba line', '127.0.0.1/32 scram-sha-256\nhost all all 0.0.0.0/0 trust #', false],
  ['host', 'catch-all CIDR', '0.0.0.0/0', false],
  ['host', 'CIDR', '10.0.0.0/8', false],
  ['host', 'IPv6 CIDR', '::/0', false],
  ['host', 'space', '127.0.0.1 trust', false],
  ['host', 'tab', '127.0.0.1\ttrust', false],
  ['host', 'carriage return', '127.0.0.1\r', false],
  ['host', 'NUL', '127.0.0.1\u0000', false],
  ['host', 'IPv6 zone', 'fe80::1%eth0', false],
  ['host', 'unicode', 'db\u200b.example', false],
  ['host', 'unicode letters', 'bücher.example', false],
  ['host', 'empty', '', false],
  ['host', 'keyword samenet', 'samenet', true], // a host name to PostgreSQL only if it resolves; harmless
  ['host', 'quote', '"all"', false],
  ['host', 'label too long', `${'a'.repeat(64)}.example`, false],
  ['host', 'name too long', `${'a.'.repeat(127)}a`, false],
  ['name', 'plain', 'pg_2', true],
  ['name', 'upper case', 'PG2', false],
  ['name', 'leading digit', '2pg', false],
  ['name', 'dash', 'pg-2', false],
  ['name', 'newline', 'pg2\n', false],
  ['name', 'unicode', 'pgé', false],
  ['name', '63 characters', `p${'g'.repeat(62)}`, true],
  ['name', '64 characters', `p${'g'.repeat(63)}`, false],
  ['upstream', 'injection', "pg1' host=evil", false],
  ['delay', 'duration', '5min', true],
  ['delay', 'injected setting', "5min'\nhba_file = '/tmp/x", false],
  ['replication.user', 'plain', 'replicator', true],
  ['replication.user', 'the superuser', 'postgres', false],
  ['replication.user', 'quote', 'rep"licator', false],
  ['replication.user', 'space', 'rep licator', false],
  ['postgres.bindir', 'absolute', '/usr/lib/postgresql/15/bin', true],
  ['postgres.bindir', 'relative', 'usr/lib/postgresql/15/bin', false],
  ['postgres.bindir', 'dot relative', './bin', false],
  ['postgres.bindir', 'newline', '/usr/lib/postgresql/15/bin\n/tmp', false],
  ['postgres.bindir', 'too long', `/${'x'.repeat(1100)}`, false],
  ['postgres.osUser', 'plain', 'postgres', true],
  ['postgres.osUser', 'injection', 'postgres;id', false],
  ['postgres.osUser', 'newline', 'postgres\n', false],
];

for (const [field, label, value, accepted] of cases) {
  test(`spec ${field}: ${label} is ${accepted ? 'accepted' : 'refused'}`, () => {
    const [section, key] = field.includes('.') ? field.split('.') : ['node', field];
    const result = clusterSpecSchema.safeParse(spec({ [section!]: { [key!]: value } }));
    assert.equal(result.success, accepted, JSON.stringify(result.success ? result.data : result.error.issues[0]));
    if (!accepted) assert.equal(result.error!.issues[0]!.path.at(-1), key, 'the issue names the field');
  });
}

test('the renderers refuse what would break a line, and quote what would change meaning', () => {
  for (const bad of ['a\nb', 'a\rb', 'a\u0000', 'a\u0085b']) assert.throws(() => quoteConfValue(bad), /control character/);
  assert.equal(quoteConfValue("it's \\"), "'it''s \\\\'");
  assert.equal(hbaName('replicator'), 'replicator');
  assert.equal(hbaName('all'), '"all"');
  assert.equal(hbaName('replication'), '"replication"');
  assert.throws(() => hbaName('a"b'));
  assert.equal(hbaAddress('10.0.0.2'), '10.0.0.2/32');
  assert.equal(hbaAddress('::1'), '::1/128');
  assert.equal(hbaAddress('172.28.0.0/16'), '172.28.0.0/16');
  assert.equal(hbaAddress('db2.example'), 'db2.example');
  for (const bad of ['0.0.0.0/0', '::/0', '10.0.0.1/33', '127.0.0.1/32 trust', 'a b', '1.2.3.4\nhost all all 0.0.0.0/0 trust']) assert.throws(() => hbaAddress(bad), /pg_hba\.conf|control/, bad);
  assert.throws(() => renderHba({ replicationUser: 'r', nodeAddresses: ['127.0.0.1/32 scram-sha-256\nhost all all 0.0.0.0/0 trust #'], clientAddresses: [] }));
});
