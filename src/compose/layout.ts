import type { ComposeOptions } from './options.js';

/** Where a node keeps its data inside the container. */
export interface DataLayout {
  /** Where the named volume is mounted: exactly the image's own VOLUME, so no anonymous volume appears beside it. */
  readonly volumeMount: string;
  readonly pgdata: string;
  /** pgrepl's node state and passfile: on the same volume as PGDATA but outside it (pg_basebackup wants PGDATA empty). */
  readonly stateDir: string;
}

/**
 * The postgres image moved its data in 18: `VOLUME /var/lib/postgresql` and
 * `PGDATA=/var/lib/postgresql/18/docker` (the pg_ctlcluster layout), where 12-17 have
 * `VOLUME /var/lib/postgresql/data`. A volume mounted at the old path on 18 makes the image refuse to
 * start. So the volume goes where each version's image declares it, and PGDATA is set explicitly,
 * one level below, so the state directory can sit beside it on the same volume.
 */
export function dataLayout(pgVersion: number): DataLayout {
  if (pgVersion >= 18) {
    return { volumeMount: '/var/lib/postgresql', pgdata: `/var/lib/postgresql/${pgVersion}/docker`, stateDir: '/var/lib/postgresql/pgrepl' };
  }
  return { volumeMount: '/var/lib/postgresql/data', pgdata: '/var/lib/postgresql/data/pgdata', stateDir: '/var/lib/postgresql/data/pgrepl' };
}

/**
 * Nodes are `pg1`..`pgN`: which one is the primary changes with a failover, so no service is named
 * after a role. `pg1` is the first primary; the project's `state/primary` names the current one.
 */
export const INITIAL_PRIMARY = 'pg1';
export const PGADMIN_SERVICE = 'pgadmin';
export const NETWORK = 'pgrepl';
/** The role replicas stream as: LOGIN REPLICATION, nothing more. */
export const REPLICATION_USER = 'replicator';
/** Port PostgreSQL listens on inside every container (the image's default). */
export const CONTAINER_PORT = 5432;

/** Host-side project paths (relative to the project directory) and where containers see them. */
export const NODE_SCRIPT_FILE = 'pgrepl-node.sh';
export const NODE_SCRIPT_TARGET = '/usr/local/bin/pgrepl-node.sh';
export const INIT_HOOK_FILE = 'pgrepl-init.sh';
export const INIT_HOOK_TARGET = '/docker-entrypoint-initdb.d/10-pgrepl.sh';
/** A directory, not a file, is mounted: a file replaced by rename would stay the old one inside a running container. */
export const STATE_DIR = 'state';
export const STATE_TARGET = '/etc/pgrepl';
export const PRIMARY_FILE = 'primary';
export const SECRETS_DIR = 'secrets';

/** Every PostgreSQL node, `pg1` first: each is a service name, cluster_name, application_name and slot name at once. */
export function nodeNames(options: Pick<ComposeOptions, 'replicas'>): string[] {
  return Array.from({ length: options.replicas + 1 }, (_, i) => `pg${i + 1}`);
}

/** `pgK` is published on host port `port + K - 1`. */
export function hostPort(options: Pick<ComposeOptions, 'port'>, node: string): number {
  return options.port + Number(node.slice(2)) - 1;
}

export function volumeName(service: string): string {
  return `${service}-data`;
}

/** Published on the bind address in the short form, which Compose v1 (1.29) reads too (it refuses `host_ip`). */
export function portMapping(bind: string, published: number, target: number): string {
  return `${bind.includes(':') ? `[${bind}]` : bind}:${published}:${target}`;
}
