import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parse } from 'yaml';
import { renderComposeFile } from './compose-file.js';
import { generateSecrets } from './env-file.js';
import { optionsFor } from './test-support.js';

type Service = {
  image: string; user?: unknown; command?: string[]; environment?: Record<string, string>; ports?: Array<Record<string, unknown>>;
  healthcheck?: { test: string[] }; depends_on?: Record<string, { condition: string }>; volumes: Array<Record<string, unknown>>;
  networks?: string[]; entrypoint?: string[];
};
type Model = { version?: unknown; services: Record<string, Service>; networks: Record<string, { ipam: { config: Array<{ subnet: string }> } }>; volumes: Record<string, unknown> };

function model(flags = {}): Model {
  return parse(renderComposeFile(optionsFor(flags))) as Model;
}

const postgresServices = (m: Model): Array<[string, Service]> => Object.entries(m.services).filter(([name]) => name !== 'pgadmin');

test('a primary and N replicas on the pinned postgres image, no version key, no root user', () => {
  const m = model({ replicas: '3', pgadmin: true });
  assert.equal(m.version, undefined);
  assert.deepEqual(Object.keys(m.services), ['primary', 'replica1', 'replica2', 'replica3', 'pgadmin']);
  for (const [name, service] of Object.entries(m.services)) {
    assert.equal(service.user, undefined, `${name} sets user`);
    assert.deepEqual(service.networks, ['pgrepl'], `${name} network`);
  }
  for (const [, service] of postgresServices(m)) assert.equal(service.image, 'postgres:17');
  assert.equal(model({ pgVersion: '13' }).services.primary!.image, 'postgres:13');
});

test('every node has a pg_isready healthcheck; replicas and pgAdmin wait for a healthy primary', () => {
  const m = model({ replicas: '2', pgadmin: true });
  for (const [name, service] of postgresServices(m)) assert.deepEqual(service.healthcheck?.test.slice(0, 2), ['CMD', 'pg_isready'], name);
  for (const name of ['replica1', 'replica2', 'pgadmin']) {
    assert.deepEqual(m.services[name]!.depends_on, { primary: { condition: 'service_healthy' } }, name);
  }
});

test('only the primary and pgAdmin are published, on 127.0.0.1 unless asked', () => {
  const m = model({ replicas: '2', pgadmin: true });
  for (const [name, service] of Object.entries(m.services)) {
    if (name === 'primary' || name === 'pgadmin') {
      assert.equal(service.ports?.length, 1, name);
      assert.equal(service.ports![0]!.host_ip, '127.0.0.1', name);
    } else assert.equal(service.ports, undefined, `${name} is published`);
  }
  assert.deepEqual(m.services.primary!.ports![0], { target: 5432, published: '5432', host_ip: '127.0.0.1', protocol: 'tcp' });
  assert.equal(model({ bind: '0.0.0.0', port: '6000' }).services.primary!.ports![0]!.published, '6000');
  assert.equal(model({ bind: '0.0.0.0' }).services.primary!.ports![0]!.host_ip, '0.0.0.0');
});

test('replication settings are server options, the same values pgrepl up uses', () => {
  const m = model({ replicas: '2', sync: '1' });
  const primary = m.services.primary!.command!;
  assert.equal(primary[0], 'postgres');
  for (const setting of ['wal_level=replica', 'hot_standby=on', 'hot_standby_feedback=on', 'max_slot_wal_keep_size=2048MB', 'wal_log_hints=on',
    'wal_compression=on', 'password_encryption=scram-sha-256', 'cluster_name=primary', 'synchronous_standby_names=ANY 1 (replica1,replica2)']) {
    assert.ok(primary.includes(setting), `primary lacks ${setting}`);
  }
  assert.ok(primary.some((arg) => /^max_wal_senders=\d+$/.test(arg)) && primary.some((arg) => /^max_replication_slots=\d+$/.test(arg)));
  const replica = m.services.replica2!.command!;
  assert.ok(replica.includes('cluster_name=replica2'));
  assert.ok(replica.includes('synchronous_standby_names='), 'a promoted replica must not wait for standbys');
  assert.ok(model({ replicas: '2' }).services.primary!.command!.includes('synchronous_standby_names='));
});

test('senders and slots grow with the replica count', () => {
  const command = model({ replicas: '20' }).services.primary!.command!;
  assert.ok(command.includes('max_wal_senders=42') && command.includes('max_replication_slots=22'));
});

test('PGDATA lives on the named volume, for the old and the 18+ image layout', () => {
  for (const [version, mount] of [['17', '/var/lib/postgresql/data'], ['18', '/var/lib/postgresql']] as const) {
    const m = model({ pgVersion: version });
    for (const [name, service] of postgresServices(m)) {
      const volume = service.volumes.find((v) => v.type === 'volume')!;
      assert.equal(volume.source, `${name}-data`);
      assert.ok(`${name}-data` in m.volumes, `${name}-data is not declared`);
      assert.equal(volume.target, mount);
      assert.ok(service.environment!.PGDATA!.startsWith(`${mount}/`), `${name} PGDATA ${service.environment!.PGDATA} not under ${mount}`);
    }
  }
  assert.equal(model({ pgVersion: '18' }).services.primary!.environment!.PGDATA, '/var/lib/postgresql/18/docker');
});

test('the network has the explicit subnet pg_hba.conf admits', () => {
  assert.deepEqual(model({ subnet: '172.31.200.0/24' }).networks.pgrepl!.ipam.config, [{ subnet: '172.31.200.0/24' }]);
});

test('the primary initialises with scram everywhere and data checksums', () => {
  const env = model().services.primary!.environment!;
  assert.equal(env.POSTGRES_INITDB_ARGS, '--auth=scram-sha-256 --data-checksums');
  assert.equal(env.POSTGRES_HOST_AUTH_METHOD, 'scram-sha-256');
});

test('no secret value in the YAML: every $ is a ${VAR:?...} reference to .env', () => {
  const options = optionsFor({ replicas: '2', pgadmin: true });
  const secrets = generateSecrets(true);
  const text = renderComposeFile(options);
  for (const value of Object.values(secrets)) assert.ok(!text.includes(value!), 'a secret is in the YAML');
  const references = [...text.matchAll(/\$\{([A-Z_]+):\?[^}]*\}/g)].map((m) => m[1]);
  assert.equal(text.split('$').length - 1, references.length, 'a $ that is not a .env reference');
  for (const reference of references) assert.ok(reference! in secrets, `${reference} is not in .env`);
});
