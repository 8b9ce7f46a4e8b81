import type { PgBinaries } from '../pg/binaries.js';
import { renderConninfo } from '../pg/conninfo.js';
import type { OsUser } from '../pg/os-user.js';
import type { Instance } from '../pg/server.js';
import type { ConnectionTarget } from '../pg/sql.js';
import type { ClusterSpec, NodeSpec } from '../spec/schema.js';
import type { ClusterLayout } from './layout.js';
import type { Secrets } from './secrets.js';

/** Everything an operation needs to act on one cluster, loaded once per command. */
export interface Cluster {
  readonly layout: ClusterLayout;
  readonly spec: ClusterSpec;
  readonly bin: PgBinaries;
  readonly user: OsUser;
  readonly secrets: Secrets;
}

export function instanceOf(cluster: Cluster, node: NodeSpec): Instance {
  return {
    name: node.name,
    dataDir: cluster.layout.dataDir(node.name),
    // Checked when used (starting the server), so a bad log blocks only that, not `status` or `down`.
    get logFile() {
      return cluster.layout.logFile(node.name);
    },
    user: cluster.user,
    bin: cluster.bin,
  };
}

export function adminTarget(cluster: Cluster, node: NodeSpec): ConnectionTarget {
  return { host: node.host, port: node.port, ...cluster.secrets.superuser };
}

/**
 * The conninfo a replica uses to reach `upstream`. It names the passfile, not the password, so
 * `pg_basebackup -R` writes no secret into postgresql.auto.conf.
 */
export function replicationConninfo(cluster: Cluster, replica: NodeSpec, upstream: NodeSpec): string {
  return renderConninfo({
    host: upstream.host,
    port: upstream.port,
    user: cluster.secrets.replication.user,
    passfile: cluster.layout.replicationPassfile,
    application_name: replica.name,
  });
}

/** A superuser conninfo for programs that need one (pg_rewind's source), password through the passfile. */
export function superuserConninfo(cluster: Cluster, node: NodeSpec, passfile: string): string {
  return renderConninfo({
    host: node.host,
    port: node.port,
    user: cluster.secrets.superuser.user,
    passfile,
    dbname: 'postgres',
  });
}
