import { basebackup } from '../pg/basebackup.js';
import { physicalSlots } from '../pg/queries.js';
import { isRunning, startServer, stopServer } from '../pg/server.js';
import { withConnection } from '../pg/sql.js';
import type { NodeSpec } from '../spec/schema.js';
import { nodeNamed } from '../spec/topology.js';
import { writeServerFiles } from './configure.js';
import { adminTarget, instanceOf, replicationConninfo, type Cluster } from './context.js';
import type { OnEvent } from './events.js';
import { adoptStartedClone, assertPortFreeFor, inspectNodeData, removeHalfBuilt } from './node-data.js';
import { writeNodeState } from './node-state.js';
import { followIfStale, followWhileStopped } from './follow.js';
import { reconcileSlots } from './slots.js';
import { DivergedError } from './errors.js';

export interface ReplicaOptions {
  readonly onEvent: OnEvent;
  /** The caller has just put the slots on the upstream (up does, level by level); spares a connection. */
  readonly slotsReady?: boolean;
  /** Awaited once the replica is cloned and configured, just before it starts. */
  readonly beforeStart?: () => Promise<void>;
}

export function divergedError(name: string): DivergedError {
  return new DivergedError(`${name} is a former primary that may hold WAL the current primary lacks; pgrepl will not start it as is`, {
    hint: `run \`pgrepl rejoin ${name}\` (pg_rewind, then it streams again), or \`pgrepl rejoin ${name} --reclone\``,
  });
}

export function upstreamOf(cluster: Cluster, node: NodeSpec): NodeSpec {
  const upstream = node.upstream === undefined ? undefined : nodeNamed(cluster.spec, node.upstream);
  if (!upstream) throw new Error(`invariant: validated spec gives ${node.name} an upstream`);
  return upstream;
}

/** Clones `node` from its upstream through its own slot. Marked `cloning` first, `ready` last. */
async function cloneReplica(cluster: Cluster, node: NodeSpec, options: ReplicaOptions): Promise<void> {
  const upstream = upstreamOf(cluster, node);
  if (!options.slotsReady) await reconcileSlots(cluster, upstream);
  await cluster.layout.ensureDir(cluster.layout.nodeDir(node.name), 0o700, 'server');
  await writeNodeState(cluster.layout, node.name, { phase: 'cloning', from: upstream.name });
  options.onEvent({ type: 'step', node: node.name, message: `cloning from ${upstream.name} (pg_basebackup -X stream -c fast -S ${node.name} -R)` });
  await basebackup({
    bin: cluster.bin,
    user: cluster.user,
    dataDir: cluster.layout.dataDir(node.name),
    cwd: cluster.layout.nodeDir(node.name),
    conninfo: replicationConninfo(cluster, node, upstream),
    slot: node.name,
    durable: false, // made durable by its first start; it stays `cloning` until then
    onProgress: (p) => options.onEvent({ type: 'clone', node: node.name, ...p }),
  });
  await writeServerFiles(cluster, node);
}

/**
 * Whether the node's slot on its upstream was invalidated by max_slot_wal_keep_size: the WAL it
 * needs is gone, so it can never stream again and only a fresh clone helps.
 */
async function slotInvalidated(cluster: Cluster, node: NodeSpec): Promise<boolean> {
  const upstream = upstreamOf(cluster, node);
  try {
    return await withConnection(adminTarget(cluster, upstream), async (db) => (await physicalSlots(db)).some((s) => s.name === node.name && s.walStatus === 'lost'));
  } catch {
    return false;
  }
}

/**
 * Converges one replica: cloned if absent, re-cloned if an earlier clone was cut short or its slot
 * was invalidated (its data dir is pgrepl's own, so removing it loses nothing), then started as a
 * hot standby.
 */
export async function ensureReplica(cluster: Cluster, node: NodeSpec, options: ReplicaOptions): Promise<{ cloned: boolean }> {
  let data = await inspectNodeData(cluster, node);
  if (data.kind === 'diverged') throw divergedError(node.name);
  if (await adoptStartedClone(cluster, node, data, options.onEvent)) data = { kind: 'ready' };
  if (data.kind === 'half-built') {
    options.onEvent({ type: 'warning', node: node.name, message: 'found a clone an earlier run left half-built; removing it and cloning again' });
    await removeHalfBuilt(cluster, node);
  }
  const lost = data.kind === 'ready' && (await slotInvalidated(cluster, node));
  if (lost) {
    options.onEvent({ type: 'warning', node: node.name, message: `its slot was invalidated (it fell more than ${cluster.spec.replication.maxSlotWalKeepSizeMb} MB behind); cloning it again` });
    await stopServer(instanceOf(cluster, node), 'fast');
    await removeHalfBuilt(cluster, node);
  }
  const cloned = data.kind !== 'ready' || lost;
  if (cloned) await cloneReplica(cluster, node, options);
  else {
    await writeServerFiles(cluster, node);
    // A stopped replica starts only as a standby of the upstream the spec names: never as a
    // primary (a missing standby.signal), never following a stale upstream.
    const upstream = upstreamOf(cluster, node);
    if (!(await isRunning(instanceOf(cluster, node)))) await followWhileStopped(cluster, node, upstream);
    else if (await followIfStale(cluster, node, upstream)) {
      options.onEvent({ type: 'warning', node: node.name, message: `was streaming from elsewhere; repointed to ${upstream.name}` });
    }
  }
  await options.beforeStart?.();
  await assertPortFreeFor(cluster, node);
  options.onEvent({ type: 'step', node: node.name, message: `starting hot standby on ${node.host}:${node.port}` });
  await startServer(instanceOf(cluster, node));
  // Only now is a fresh clone durable: its first start fsynced the data directory.
  if (cloned) await writeNodeState(cluster.layout, node.name, { phase: 'ready' });
  return { cloned };
}
