import { Document } from 'yaml';
import { nodeSettings, quorumStandbyNames, renderServerOptions } from '../pg/settings.js';
import {
  CONTAINER_PORT, dataLayout, hostPort, portMapping, INIT_HOOK_FILE, INIT_HOOK_TARGET, NETWORK, NODE_SCRIPT_FILE, NODE_SCRIPT_TARGET, nodeNames,
  PGADMIN_SERVICE, REPLICATION_USER, STATE_DIR, STATE_TARGET, volumeName,
} from './layout.js';
import type { ComposeOptions } from './options.js';
import { pgadminService, PGADMIN_VOLUME } from './pgadmin.js';
import { NODE_SECRETS, secretFile, type SecretName } from './secrets.js';

type Service = Record<string, unknown>;

/** Room for every other node plus one pg_basebackup each (it uses two senders with -X stream) at once. */
function replicationSizes(options: ComposeOptions): { maxWalSenders: number; maxReplicationSlots: number } {
  return { maxWalSenders: Math.max(10, 2 * options.replicas + 2), maxReplicationSlots: Math.max(10, options.replicas + 2) };
}

/**
 * `postgres -c ...` for one node, from the same settings list `pgrepl up` writes to pgrepl.conf.
 * Listen address, port and socket stay the image's. Every node gets the same quorum over every
 * node's name: a standby ignores it, a node never counts itself, and whichever node is promoted
 * keeps the guarantee (`pgrepl compose failover` points the others at it before promoting it).
 */
export function serverCommand(options: ComposeOptions, node: string): string[] {
  const sync = quorumStandbyNames(options.sync, nodeNames(options));
  const settings = nodeSettings({ name: node, ...replicationSizes(options), maxSlotWalKeepSizeMb: 2048, walKeepSizeMb: 128, synchronousStandbyNames: sync, recoveryMinApplyDelay: '0' });
  return ['postgres', ...renderServerOptions(settings)];
}

function nodeEnvironment(options: ComposeOptions, node: string): Record<string, string> {
  const layout = dataLayout(options.pgVersion);
  return {
    PGDATA: layout.pgdata,
    PGREPL_NODE: node,
    PGREPL_NODES: nodeNames(options).join(' '),
    PGREPL_STATE_DIR: layout.stateDir,
    PGREPL_TOPOLOGY_DIR: STATE_TARGET,
    REPLICATION_USER,
    // `docker compose exec pgN psql` connects as the postgres role (peer-mapped for root and postgres).
    PGUSER: 'postgres',
    // Names of files, never values: the node script reads them as root and drops to postgres.
    ...Object.fromEntries(NODE_SECRETS.map(([secret, variable]) => [variable, `/run/secrets/${secret}`])),
    // The image runs initdb without --auth (trust lines) unless told; checksums let pg_rewind work.
    POSTGRES_INITDB_ARGS: '--auth=scram-sha-256 --data-checksums',
    POSTGRES_HOST_AUTH_METHOD: 'scram-sha-256',
    ...(options.subnet ? { PGREPL_SUBNET: options.subnet } : {}),
  };
}

/** One PostgreSQL node. Any node may be the primary; the project's state/primary says which. */
function nodeService(options: ComposeOptions, node: string): Service {
  const layout = dataLayout(options.pgVersion);
  return {
    image: `postgres:${options.pgVersion}`,
    entrypoint: ['bash', NODE_SCRIPT_TARGET],
    command: serverCommand(options, node),
    environment: nodeEnvironment(options, node),
    secrets: NODE_SECRETS.map(([secret]) => secret),
    volumes: [
      { type: 'volume', source: volumeName(node), target: layout.volumeMount },
      { type: 'bind', source: `./${NODE_SCRIPT_FILE}`, target: NODE_SCRIPT_TARGET, read_only: true },
      { type: 'bind', source: `./${INIT_HOOK_FILE}`, target: INIT_HOOK_TARGET, read_only: true },
      { type: 'bind', source: `./${STATE_DIR}`, target: STATE_TARGET, read_only: true },
    ],
    ports: [portMapping(options.bind, hostPort(options, node), CONTAINER_PORT)],
    networks: [NETWORK],
    // No depends_on: which node is primary changes with a failover, and a dependency would start a
    // fenced old primary with its dependants. A cloning node waits for the primary itself.
    // Healthy means what the README says: the named primary accepting writes, or a standby streaming.
    healthcheck: { test: ['CMD', 'bash', NODE_SCRIPT_TARGET, 'health'], interval: '5s', timeout: '10s', retries: 3, start_period: '10m' },
    // Docker's 64 MB /dev/shm is too small for parallel queries' shared memory.
    shm_size: '256mb',
    // The image stops with SIGINT (fast shutdown), whose checkpoint can outlast Docker's 10 s default.
    stop_grace_period: '1m',
    restart: 'unless-stopped',
  };
}

/** Keys in the order a reader looks for them: what runs, with what, where, when healthy. */
const KEY_ORDER = ['image', 'entrypoint', 'command', 'environment', 'secrets', 'volumes', 'ports', 'networks', 'depends_on', 'healthcheck'];

function ordered(service: Service): Service {
  const rank = (key: string): number => (KEY_ORDER.includes(key) ? KEY_ORDER.indexOf(key) : KEY_ORDER.length);
  return Object.fromEntries(Object.entries(service).sort(([a], [b]) => rank(a) - rank(b)));
}

function secretsSection(options: ComposeOptions): Record<string, { file: string }> {
  const names: SecretName[] = [...NODE_SECRETS.map(([secret]) => secret), ...(options.pgadmin ? ['pgadmin_password' as const] : [])];
  return Object.fromEntries(names.map((name) => [name, { file: `./${secretFile(name)}` }]));
}

/** The compose model as plain data (what the YAML says), for the renderer and for tests. */
export function composeModel(options: ComposeOptions): Record<string, unknown> {
  const nodes = nodeNames(options);
  const services: Record<string, Service> = {};
  for (const node of nodes) services[node] = ordered(nodeService(options, node));
  if (options.pgadmin) services[PGADMIN_SERVICE] = ordered(pgadminService(options));
  const volumes: Record<string, object> = {};
  for (const node of nodes) volumes[volumeName(node)] = {};
  if (options.pgadmin) volumes[PGADMIN_VOLUME] = {};
  return {
    services,
    // A fixed subnet only when asked: otherwise Docker picks a free one, so projects do not collide.
    networks: { [NETWORK]: options.subnet ? { ipam: { config: [{ subnet: options.subnet }] } } : {} },
    volumes,
    secrets: secretsSection(options),
  };
}

/** docker-compose.yml text: no `version:` key, no secret values; read by Compose v2 and v1.29 alike. */
export function renderComposeFile(options: ComposeOptions): string {
  const doc = new Document(composeModel(options));
  doc.commentBefore = [
    ' Generated by `pgrepl compose`. Start with `docker compose up -d` (or docker-compose 1.29); see README.md.',
    ` postgres:${options.pgVersion}: ${nodeNames(options).join(', ')}; pg1 starts as the primary, state/primary names the current one.`,
    options.sync > 0 ? ` Commits wait for ANY ${options.sync} standby(s).` : ' Replication is asynchronous.',
    ' Passwords are files in secrets/ (mode 0600), mounted as Compose secrets; this file only names them.',
  ].join('\n');
  return doc.toString({ lineWidth: 0 });
}
