import type { ComposeOptions } from './options.js';

/** Where a node keeps its data inside the container. */
export interface DataLayout {
  /** Where the named volume is mounted: exactly the image's own VOLUME, so no anonymous volume appears beside it. */
  readonly volumeMount: string;
  readonly pgdata: string;
  /** pgrepl's clone marker and passfile: on the same volume as PGDATA but outside it (pg_basebackup wants PGDATA empty). */
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

export const PRIMARY_SERVICE = 'primary';
export const PGADMIN_SERVICE = 'pgadmin';
export const NETWORK = 'pgrepl';
/** The role replicas stream as: LOGIN REPLICATION, nothing more. */
export const REPLICATION_USER = 'replicator';
/** Port PostgreSQL listens on inside every container (the image's default). */
export const CONTAINER_PORT = 5432;

/** `replica1`, `replica2`, ...: each is a service name, cluster_name, application_name and slot name at once. */
export function replicaNames(options: Pick<ComposeOptions, 'replicas'>): string[] {
  return Array.from({ length: options.replicas }, (_, i) => `replica${i + 1}`);
}

export function volumeName(service: string): string {
  return `${service}-data`;
}
