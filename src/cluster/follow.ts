import { join } from 'node:path';
import { autoConfValue, editAutoConf } from '../pg/auto-conf.js';
import { configuredUpstream, reloadConf, setUpstream, writeUpstream } from '../pg/queries.js';
import { isRunning } from '../pg/server.js';
import { withConnection, type Connector, type Queryable } from '../pg/sql.js';
import type { NodeSpec } from '../spec/schema.js';
import { adminTarget, instanceOf, replicationConninfo, type Cluster } from './context.js';
import { inspectNodeData } from './node-data.js';

/**
 * Makes a stopped node a standby of `upstream`: standby.signal, and primary_conninfo plus
 * primary_slot_name in postgresql.auto.conf (where `pg_basebackup -R` and ALTER SYSTEM keep them).
 */
export async function followWhileStopped(cluster: Cluster, node: NodeSpec, upstream: NodeSpec): Promise<void> {
  const dataDir = cluster.layout.dataDir(node.name);
  const autoConf = join(dataDir, 'postgresql.auto.conf');
  const text = await cluster.layout.readFile(autoConf).catch(() => '');
  await cluster.layout.writeFile(autoConf, editAutoConf(text, {
    primary_conninfo: replicationConninfo(cluster, node, upstream),
    primary_slot_name: node.name,
  }), 0o600, 'server');
  await cluster.layout.writeFile(join(dataDir, 'standby.signal'), '', 0o600, 'server');
}

/** Points a running standby at a new upstream: PostgreSQL 13+ restarts its walreceiver on reload. */
export async function followWhileRunning(cluster: Cluster, node: NodeSpec, upstream: NodeSpec, via: Connector = withConnection): Promise<void> {
  await via(adminTarget(cluster, node), async (db) => {
    await writeUpstreamOf(cluster, node, upstream, db);
    await reloadConf(db);
  });
}

/**
 * Writes a running standby's new upstream over `db` (a connection to it) without reloading. Its
 * slot is always named after it: the slot line is written only when the file does not say so already.
 */
export async function writeUpstreamOf(cluster: Cluster, node: NodeSpec, upstream: NodeSpec, db: Queryable): Promise<void> {
  const autoConf = await cluster.layout.readFile(join(cluster.layout.dataDir(node.name), 'postgresql.auto.conf')).catch(() => '');
  const slotWritten = autoConfValue(autoConf, 'primary_slot_name') === node.name;
  await writeUpstream(db, replicationConninfo(cluster, node, upstream), slotWritten ? undefined : node.name);
}

/** Clears a promoted node's recovery settings, so its config no longer names its old upstream. */
export async function forgetUpstream(cluster: Cluster, node: NodeSpec): Promise<void> {
  await withConnection(adminTarget(cluster, node), (db) => setUpstream(db, null, null));
}

/** Points `node` at `upstream` whether it runs or not; a node without data is left for `up` to clone. */
export async function follow(cluster: Cluster, node: NodeSpec, upstream: NodeSpec): Promise<void> {
  if (await isRunning(instanceOf(cluster, node))) return followWhileRunning(cluster, node, upstream);
  if ((await inspectNodeData(cluster, node)).kind === 'ready') await followWhileStopped(cluster, node, upstream);
}

/** Repoints a running standby whose primary_conninfo or slot is not the spec's upstream (after an interrupted move). */
export async function followIfStale(cluster: Cluster, node: NodeSpec, upstream: NodeSpec): Promise<boolean> {
  const current = await withConnection(adminTarget(cluster, node), configuredUpstream);
  if (current.host === upstream.host && current.port === upstream.port && current.slot === node.name) return false;
  await followWhileRunning(cluster, node, upstream);
  return true;
}
