import { Document } from 'yaml';
import { nodeSettings, quorumStandbyNames, renderServerOptions } from '../pg/settings.js';
import { secretRef } from './env-file.js';
import { CONTAINER_PORT, dataLayout, NETWORK, PGADMIN_SERVICE, PRIMARY_SERVICE, REPLICATION_USER, replicaNames, volumeName } from './layout.js';
import type { ComposeOptions } from './options.js';
import { pgadminService, PGADMIN_VOLUME } from './pgadmin.js';
import { PRIMARY_INIT_TARGET } from './primary-init.js';
import { REPLICA_ENTRYPOINT_TARGET } from './replica-entrypoint.js';

/** Host-side files the services mount (relative to the project directory). */
export const PRIMARY_INIT_FILE = 'primary-init.sh';
export const REPLICA_ENTRYPOINT_FILE = 'replica-entrypoint.sh';

type Service = Record<string, unknown>;

/** Room for every replica plus one pg_basebackup each (it uses two senders with -X stream) at once. */
function replicationSizes(options: ComposeOptions): { maxWalSenders: number; maxReplicationSlots: number } {
  return { maxWalSenders: Math.max(10, 2 * options.replicas + 2), maxReplicationSlots: Math.max(10, options.replicas + 2) };
}

/**
 * `postgres -c ...` for one node, from the same settings list `pgrepl up` writes to pgrepl.conf.
 * Listen address, port and socket stay the image's (all interfaces of the container, 5432, the
 * socket its init scripts use). Only the primary gets synchronous_standby_names: a promoted replica
 * must not wait for standbys that are not streaming to it.
 */
export function serverCommand(options: ComposeOptions, service: string): string[] {
  const sync = service === PRIMARY_SERVICE ? quorumStandbyNames(options.sync, replicaNames(options)) : '';
  const settings = nodeSettings({ name: service, ...replicationSizes(options), maxSlotWalKeepSizeMb: 2048, walKeepSizeMb: 128, synchronousStandbyNames: sync, recoveryMinApplyDelay: '0' });
  return ['postgres', ...renderServerOptions(settings)];
}

/** What every PostgreSQL node shares: pinned image, network, volume, healthcheck, shutdown time. */
function postgresService(options: ComposeOptions, service: string, startPeriod: string): Service {
  const layout = dataLayout(options.pgVersion);
  return {
    image: `postgres:${options.pgVersion}`,
    command: serverCommand(options, service),
    volumes: [{ type: 'volume', source: volumeName(service), target: layout.volumeMount }],
    networks: [NETWORK],
    // Over TCP on loopback: the image's temporary init server listens on the socket only, so the
    // node is healthy only once the real server accepts network connections.
    healthcheck: {
      test: ['CMD', 'pg_isready', '-h', '127.0.0.1', '-p', String(CONTAINER_PORT), '-U', 'postgres', '-d', 'postgres'],
      interval: '3s',
      timeout: '3s',
      retries: 5,
      start_period: startPeriod,
    },
    // Docker's 64 MB /dev/shm is too small for parallel queries' shared memory.
    shm_size: '256mb',
    // The image stops with SIGINT (fast shutdown), whose checkpoint can outlast Docker's 10 s default.
    stop_grace_period: '1m',
    restart: 'unless-stopped',
  };
}

function primaryService(options: ComposeOptions): Service {
  const base = postgresService(options, PRIMARY_SERVICE, '1m');
  return {
    ...base,
    environment: {
      PGDATA: dataLayout(options.pgVersion).pgdata,
      POSTGRES_PASSWORD: secretRef('POSTGRES_PASSWORD'),
      // The image runs initdb without --auth (trust lines) unless told; checksums let pg_rewind work.
      POSTGRES_INITDB_ARGS: '--auth=scram-sha-256 --data-checksums',
      POSTGRES_HOST_AUTH_METHOD: 'scram-sha-256',
      REPLICATION_PASSWORD_SCRAM: secretRef('REPLICATION_PASSWORD_SCRAM'),
    },
    volumes: [...(base.volumes as unknown[]), { type: 'bind', source: `./${PRIMARY_INIT_FILE}`, target: PRIMARY_INIT_TARGET, read_only: true }],
    ports: [{ target: CONTAINER_PORT, published: String(options.port), host_ip: options.bind, protocol: 'tcp' }],
  };
}

function replicaService(options: ComposeOptions, name: string): Service {
  const base = postgresService(options, name, '10m'); // a clone of a large primary takes a while
  const layout = dataLayout(options.pgVersion);
  return {
    ...base,
    entrypoint: ['bash', REPLICA_ENTRYPOINT_TARGET],
    environment: {
      PGDATA: layout.pgdata,
      PGREPL_STATE_DIR: layout.stateDir,
      PRIMARY_HOST: PRIMARY_SERVICE,
      PRIMARY_PORT: String(CONTAINER_PORT),
      REPLICATION_USER,
      REPLICATION_SLOT: name,
      REPLICATION_PASSWORD: secretRef('REPLICATION_PASSWORD'),
    },
    volumes: [...(base.volumes as unknown[]), { type: 'bind', source: `./${REPLICA_ENTRYPOINT_FILE}`, target: REPLICA_ENTRYPOINT_TARGET, read_only: true }],
    depends_on: { [PRIMARY_SERVICE]: { condition: 'service_healthy' } },
  };
}

/** Keys in the order a reader looks for them: what runs, with what, where, when healthy. */
const KEY_ORDER = ['image', 'entrypoint', 'command', 'environment', 'volumes', 'ports', 'networks', 'depends_on', 'healthcheck'];

function ordered(service: Service): Service {
  const rank = (key: string): number => (KEY_ORDER.includes(key) ? KEY_ORDER.indexOf(key) : KEY_ORDER.length);
  return Object.fromEntries(Object.entries(service).sort(([a], [b]) => rank(a) - rank(b)));
}

/** The compose model as plain data (what the YAML says), for the renderer and for tests. */
export function composeModel(options: ComposeOptions): Record<string, unknown> {
  const replicas = replicaNames(options);
  const services: Record<string, Service> = { [PRIMARY_SERVICE]: ordered(primaryService(options)) };
  for (const name of replicas) services[name] = ordered(replicaService(options, name));
  if (options.pgadmin) services[PGADMIN_SERVICE] = ordered(pgadminService(options));
  const volumes: Record<string, object> = {};
  for (const name of [PRIMARY_SERVICE, ...replicas]) volumes[volumeName(name)] = {};
  if (options.pgadmin) volumes[PGADMIN_VOLUME] = {};
  return {
    services,
    // An explicit subnet, because pg_hba.conf admits exactly this range.
    networks: { [NETWORK]: { ipam: { config: [{ subnet: options.subnet }] } } },
    volumes,
  };
}

/** docker-compose.yml text: no `version:` key (obsolete), no secret values, only `${VAR}` references to .env. */
export function renderComposeFile(options: ComposeOptions): string {
  const doc = new Document(composeModel(options));
  doc.commentBefore = [
    ' Generated by `pgrepl compose`. Start with `docker compose up -d`; see README.md.',
    ` postgres:${options.pgVersion}: a primary and ${options.replicas} streaming hot standby(s)` +
      (options.sync > 0 ? `, commits wait for ANY ${options.sync}.` : ', asynchronous.'),
    ' Secrets are in .env (mode 0600); this file only names them.',
  ].join('\n');
  return doc.toString({ lineWidth: 0 });
}
