import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parse } from 'yaml';
import { renderComposeFile } from './compose-file.js';
import { generateSecrets } from './secrets.js';
import { optionsFor } from './test-support.js';

type Service = {
  image: string; user?: unknown; command?: string[]; environment?: Record<string, string>; ports?: unknown[]; secrets?: string[];
  healthcheck?: { test: string[] }; depends_on?: unknown; volumes: Array<Record<string, unknown>>; networks?: string[]; entrypoint?: string[];
};
type Model = { version?: unknown; services: Record<string, Service>; networks: Record<string, { ipam?: { config: Array<{ subnet: string }> } }>; volumes: Record<string, unknown>; secrets: Record<string, { file: string }> };

function model(flags = {}): Model {
  return parse(renderComposeFile(optionsFor(flags))) as Model;
}

const nodes = (m: Model): Array<[string, Service]> => Object.entries(m.services).filter(([name]) => name !== 'pgadmin');

test('nodes pg1..pgN+1 on the pinned image, no version key, no root user, no depends_on (a fenced node must not start with its dependants)', () => {
  const m = model({ replicas: '3', pgadmin: true });
  assert.equal(m.version, undefined);
  assert.deepEqual(Object.keys(m.services), ['pg1', 'pg2', 'pg3', 'pg4', 'pgadmin']);
  for (const [name, service] of Object.entries(m.services)) {
    assert.equal(service.user, undefined, `${name} sets user`);
    assert.equal(service.depends_on, undefined, `${name} depends on another service`);
    assert.deepEqual(service.networks, ['pgrepl'], `${name} network`);
  }
  for (const [, service] of nodes(m)) assert.equal(service.image, 'postgres:17');
  assert.equal(model({ pgVersion: '13' }).services.pg1!.image, 'postgres:13');
});

test('every node runs the node script: entrypoint, and a healthcheck that means "primary or streaming"', () => {
  for (const [name, service] of nodes(model({ replicas: '2' }))) {
    assert.deepEqual(service.entrypoint, ['bash', '/usr/local/bin/pgrepl-node.sh'], name);
    assert.deepEqual(service.healthcheck?.test, ['CMD', 'bash', '/usr/local/bin/pgrepl-node.sh', 'health'], name);
    assert.equal(service.environment!.PGREPL_NODE, name);
    assert.equal(service.environment!.PGREPL_NODES, 'pg1 pg2 pg3');
    const mounts = service.volumes.map((v) => `${v.source}:${v.target}:${v.read_only ?? false}`);
    assert.ok(mounts.includes('./state:/etc/pgrepl:true'), 'state/ (the primary\'s name) is mounted read-only as a directory');
  }
});

test('ports: every node on loopback in the short form Compose v1 reads (no host_ip), pgK on port+K-1', () => {
  const m = model({ replicas: '2', pgadmin: true, port: '6000' });
  assert.deepEqual(nodes(m).map(([, s]) => s.ports), [['127.0.0.1:6000:5432'], ['127.0.0.1:6001:5432'], ['127.0.0.1:6002:5432']]);
  assert.deepEqual(m.services.pgadmin!.ports, ['127.0.0.1:5050:80']);
  assert.deepEqual(model({ bind: '0.0.0.0' }).services.pg1!.ports, ['0.0.0.0:5432:5432']);
  assert.deepEqual(model({ bind: '::1' }).services.pg1!.ports, ['[::1]:5432:5432']);
  assert.ok(!renderComposeFile(optionsFor({ replicas: '2', pgadmin: true })).includes('host_ip'));
});

test('replication settings are server options, the same values pgrepl up uses; every node has the same quorum', () => {
  const m = model({ replicas: '2', sync: '1' });
  for (const [name, service] of nodes(m)) {
    const command = service.command!;
    assert.equal(command[0], 'postgres');
    for (const setting of ['wal_level=replica', 'hot_standby=on', 'hot_standby_feedback=on', 'max_slot_wal_keep_size=2048MB', 'wal_log_hints=on',
      'password_encryption=scram-sha-256', `cluster_name=${name}`, 'synchronous_standby_names=ANY 1 (pg1,pg2,pg3)']) {
      assert.ok(command.includes(setting), `${name} lacks ${setting}`);
    }
  }
  assert.ok(model({ replicas: '2' }).services.pg2!.command!.includes('synchronous_standby_names='));
});

test('senders and slots grow with the replica count', () => {
  const command = model({ replicas: '20' }).services.pg1!.command!;
  assert.ok(command.includes('max_wal_senders=42') && command.includes('max_replication_slots=22'));
});

test('PGDATA lives on the named volume, for the old and the 18+ image layout', () => {
  for (const [version, mount] of [['17', '/var/lib/postgresql/data'], ['18', '/var/lib/postgresql']] as const) {
    const m = model({ pgVersion: version });
    for (const [name, service] of nodes(m)) {
      const volume = service.volumes.find((v) => v.type === 'volume')!;
      assert.equal(volume.source, `${name}-data`);
      assert.ok(`${name}-data` in m.volumes, `${name}-data is not declared`);
      assert.equal(volume.target, mount);
      assert.ok(service.environment!.PGDATA!.startsWith(`${mount}/`));
      assert.ok(service.environment!.PGREPL_STATE_DIR!.startsWith(`${mount}/`));
    }
  }
  assert.equal(model({ pgVersion: '18' }).services.pg1!.environment!.PGDATA, '/var/lib/postgresql/18/docker');
});

test('the network: Docker picks the subnet unless --subnet fixes it (then the nodes admit exactly it)', () => {
  const free = model();
  assert.deepEqual(free.networks.pgrepl, {});
  assert.equal(free.services.pg1!.environment!.PGREPL_SUBNET, undefined);
  const fixed = model({ subnet: '172.31.200.0/24' });
  assert.deepEqual(fixed.networks.pgrepl!.ipam!.config, [{ subnet: '172.31.200.0/24' }]);
  assert.equal(fixed.services.pg2!.environment!.PGREPL_SUBNET, '172.31.200.0/24');
});

test('initdb with scram everywhere and data checksums', () => {
  const env = model().services.pg1!.environment!;
  assert.equal(env.POSTGRES_INITDB_ARGS, '--auth=scram-sha-256 --data-checksums');
  assert.equal(env.POSTGRES_HOST_AUTH_METHOD, 'scram-sha-256');
});

test('secrets are Compose secrets (files), never environment values; no secret and no $ in the YAML', () => {
  const options = optionsFor({ replicas: '2', pgadmin: true });
  const text = renderComposeFile(options);
  for (const value of Object.values(generateSecrets(true))) assert.ok(!text.includes(value));
  assert.ok(!text.includes('$'), 'a variable reference: Compose would read it from the environment');
  const m = parse(text) as Model;
  assert.deepEqual(m.secrets, {
    postgres_password: { file: './secrets/postgres_password' },
    replication_password: { file: './secrets/replication_password' },
    replication_password_scram: { file: './secrets/replication_password_scram' },
    pgadmin_password: { file: './secrets/pgadmin_password' },
  });
  for (const [name, service] of Object.entries(m.services)) {
    for (const [key, value] of Object.entries(service.environment ?? {})) {
      if (/PASSWORD|SCRAM/.test(key)) assert.match(key, /_FILE$/, `${name}: ${key} carries a value`);
      if (key.endsWith('_FILE')) assert.match(value, /^\/run\/secrets\/[a-z_]+$/);
    }
  }
  assert.deepEqual(m.services.pg1!.secrets, ['postgres_password', 'replication_password', 'replication_password_scram']);
  assert.deepEqual(m.services.pgadmin!.secrets, ['pgadmin_password']);
  assert.equal(m.services.pg1!.environment!.PGUSER, 'postgres', '`docker compose exec pgN psql` is the postgres role');
});
