import { initdb } from '../pg/initdb.js';
import { ensureReplicationRole, reloadConf } from '../pg/queries.js';
import { scramVerifier } from '../pg/scram.js';
import { startServer } from '../pg/server.js';
import { withConnection } from '../pg/sql.js';
import type { NodeSpec } from '../spec/schema.js';
import { primaryOf } from '../spec/topology.js';
import { writeServerFiles } from './configure.js';
import { adminTarget, instanceOf, type Cluster } from './context.js';
import type { OnEvent } from './events.js';
import { assertPortFreeFor, inspectNodeData, removeHalfBuilt } from './node-data.js';
import { writeNodeState } from './node-state.js';
import { reconcileSlotsOn } from './slots.js';
import { ForeignDataError } from './errors.js';

/** initdb the primary, then write pgrepl's files. Marked `initializing` first so a crash is recoverable. */
async function createPrimary(cluster: Cluster, node: NodeSpec, onEvent: OnEvent): Promise<void> {
  onEvent({ type: 'step', node: node.name, message: 'initdb (data checksums, scram-sha-256)' });
  await cluster.layout.ensureDir(cluster.layout.nodeDir(node.name), 0o700, 'server');
  await writeNodeState(cluster.layout, node.name, { phase: 'initializing' });
  await initdb({
    bin: cluster.bin,
    user: cluster.user,
    dataDir: cluster.layout.dataDir(node.name),
    privateDir: cluster.layout.nodeDir(node.name),
    superuser: cluster.secrets.superuser.user,
    superuserPassword: cluster.secrets.superuser.password,
  });
  await writeServerFiles(cluster, node);
  await writeNodeState(cluster.layout, node.name, { phase: 'ready' });
}

/**
 * Converges the primary: created if absent (or redone if an earlier initdb was cut short), files
 * brought to the spec, started, replication role and slots in place. Returns whether it was created.
 */
export async function ensurePrimary(cluster: Cluster, onEvent: OnEvent): Promise<{ created: boolean }> {
  const node = primaryOf(cluster.spec);
  const data = await inspectNodeData(cluster, node);
  if (data.kind === 'diverged') {
    throw new ForeignDataError(`the primary ${node.name} is marked diverged (fenced by a failover that did not finish)`, {
      hint: `promote a replica with \`pgrepl failover\`, or if ${node.name} really is the newest copy, set the phase in state/${node.name}.json back to "ready"`,
    });
  }
  if (data.kind === 'lost') {
    throw new ForeignDataError(`the primary ${node.name}'s data directory ${cluster.layout.dataDir(node.name)} is gone`, {
      hint: 'restore it, or start over with `pgrepl down --destroy`; pgrepl will not create a new, empty primary under existing replicas',
    });
  }
  let created = false;
  if (data.kind === 'half-built') {
    onEvent({ type: 'warning', node: node.name, message: 'an earlier run stopped during initdb; redoing it' });
    await removeHalfBuilt(cluster, node);
  }
  if (data.kind !== 'ready') {
    await createPrimary(cluster, node, onEvent);
    created = true;
  }
  const changed = created ? false : await writeServerFiles(cluster, node);
  await assertPortFreeFor(cluster, node);
  onEvent({ type: 'step', node: node.name, message: `starting primary on ${node.host}:${node.port}` });
  await startServer(instanceOf(cluster, node));
  await withConnection(adminTarget(cluster, node), async (db) => {
    if (changed) await reloadConf(db);
    await ensureReplicationRole(db, cluster.secrets.replication.user, scramVerifier(cluster.secrets.replication.password));
    await reconcileSlotsOn(db, cluster, node);
  });
  return { created };
}
