import type { NodeSpec } from '../spec/schema.js';
import { nextNodeName, nodeNamed, primaryOf, replicasOf } from '../spec/topology.js';
import { UsageError } from '../errors.js';
import type { Cluster } from './context.js';
import { createCluster, hostsForNewNodes, portsForNewNodes, saveSpec, undoNewCluster } from './create.js';
import type { OnEvent } from './events.js';
import { classifyDir, notAClusterError, openCluster } from './open.js';
import { withClusterLock, type Lock } from './lock.js';
import { refuseWhileInterrupted } from './intent.js';
import { ensurePrimary } from './primary.js';
import { proveReplication, type ReplicaProof } from './prove.js';
import { divergedError, ensureReplica } from './replica.js';
import { applyConfig } from './apply-config.js';
import { inspectNodeData } from './node-data.js';
import { setSyncInSpec } from './set-sync.js';
import { reconcileSlots } from './slots.js';
import { Barrier } from '../util/barrier.js';

export interface UpOptions {
  readonly root: string;
  /** Desired replica count; undefined keeps what the spec has (1 for a new cluster). */
  readonly replicas?: number;
  readonly port?: number;
  readonly bindir?: string;
  readonly osUser?: string;
  /** Synchronous quorum K to set (0 = asynchronous); undefined keeps the spec's. */
  readonly sync?: number;
  /** `--host`: addresses of the nodes this run adds (see hostsForNewNodes). */
  readonly hosts?: readonly string[];
  readonly onEvent: OnEvent;
}

export interface UpResult {
  readonly dir: string;
  readonly created: boolean;
  readonly primary: string;
  readonly cloned: readonly string[];
  readonly proofs: readonly ReplicaProof[];
}

export const DEFAULT_REPLICAS = 1;

/** Adds replicas of the primary to the spec until it has `wanted`; never removes any. */
async function growSpec(cluster: Cluster, wanted: number, port: number | undefined, hosts: readonly string[] | undefined): Promise<Cluster> {
  const have = replicasOf(cluster.spec).length;
  if (wanted < have) {
    throw new UsageError(`the cluster has ${have} replicas; --replicas ${wanted} would remove some, and up never removes nodes`, {
      hint: 'use `pgrepl remove-replica NAME` to retire one',
    });
  }
  if (wanted === have) return cluster;
  const addresses = hostsForNewNodes(hosts, wanted - have);
  const ports = await portsForNewNodes(cluster.spec, wanted - have, port, addresses);
  const nodes: NodeSpec[] = [...cluster.spec.nodes];
  const primary = primaryOf(cluster.spec).name;
  for (const [i, p] of ports.entries()) {
    const name = nextNodeName({ ...cluster.spec, nodes });
    nodes.push({ name, host: addresses[i]!, port: p, upstream: primary });
  }
  return saveSpec(cluster, { ...cluster.spec, nodes });
}

/** Replicas marked diverged (former primaries): up leaves them, and what streams from them, stopped. */
async function divergedNodes(cluster: Cluster): Promise<Set<string>> {
  const names = new Set<string>();
  for (const node of replicasOf(cluster.spec)) if ((await inspectNodeData(cluster, node)).kind === 'diverged') names.add(node.name);
  return names;
}

function blockedBy(cluster: Cluster, node: NodeSpec, diverged: ReadonlySet<string>): boolean {
  for (let n: NodeSpec | undefined = node; n; n = n.upstream === undefined ? undefined : nodeNamed(cluster.spec, n.upstream)) {
    if (diverged.has(n.name)) return true;
  }
  return false;
}

/** Nodes grouped so each group's upstreams are all in earlier groups: clone group by group, in parallel. */
function byDepth(cluster: Cluster): NodeSpec[][] {
  const levels: NodeSpec[][] = [];
  let frontier = [primaryOf(cluster.spec).name];
  for (;;) {
    const next = cluster.spec.nodes.filter((n) => n.upstream !== undefined && frontier.includes(n.upstream));
    if (next.length === 0) return levels;
    levels.push(next);
    frontier = next.map((n) => n.name);
  }
}

/**
 * The main job, under the cluster lock: make the cluster at `root` exist, run, and replicate, then prove it. Creates it
 * when absent, starts what is stopped, adds replicas up to `replicas`, and leaves healthy nodes be.
 */
export async function up(options: UpOptions): Promise<UpResult> {
  if ((await classifyDir(options.root)) === 'foreign') throw notAClusterError(options.root); // touch nothing in it
  return withClusterLock(options.root, 'up', (lock) => converge(options, lock));
}

async function converge(options: UpOptions, lock: Lock): Promise<UpResult> {
  const isNew = (await classifyDir(options.root)) !== 'cluster';
  if (!isNew) {
    const cluster = await openCluster(options.root, options);
    await refuseWhileInterrupted(cluster.layout);
    return convergeCluster(cluster, options, false);
  }
  const cluster = await createCluster(options.root, { ...options, replicas: options.replicas ?? DEFAULT_REPLICAS, createdDir: lock.createdDir });
  try {
    return await convergeCluster(cluster, options, true);
  } catch (error) {
    throw await undoNewCluster(cluster, lock.createdDir, error);
  }
}

async function convergeCluster(opened: Cluster, options: UpOptions, isNew: boolean): Promise<UpResult> {
  let cluster = opened;
  if (!isNew && options.hosts !== undefined && (options.replicas ?? replicasOf(cluster.spec).length) <= replicasOf(cluster.spec).length) {
    throw new UsageError('--host sets the addresses of the nodes up creates, and this run creates none', { hint: 'to move a node, change its host in pgrepl.yaml while the cluster is down' });
  }
  if (!isNew && options.replicas !== undefined) cluster = await growSpec(cluster, options.replicas, options.port, options.hosts);
  if (options.sync !== undefined) cluster = await setSyncInSpec(cluster, options.sync);
  await ensurePrimary(cluster, options.onEvent);
  const diverged = await divergedNodes(cluster);
  const cloned: string[] = [];
  const started: NodeSpec[] = [];
  for (const [depth, level] of byDepth(cluster).entries()) {
    const ready = level.filter((n) => !blockedBy(cluster, n, diverged));
    // ensurePrimary put the primary's slots in place; deeper levels' upstreams get theirs here.
    if (depth > 0) await Promise.all([...new Set(ready.map((n) => n.upstream!))].map((name) => reconcileSlots(cluster, nodeNamed(cluster.spec, name)!)));
    // Siblings start together, after the last clone: a standby's first start flushes the file system
    // (syncfs), and a flush while a sibling is still being written slows both (~40 ms for two).
    const startTogether = new Barrier(ready.length);
    const results = await Promise.all(
      ready.map((node) =>
        ensureReplica(cluster, node, { onEvent: options.onEvent, slotsReady: true, beforeStart: () => startTogether.arrive() }).catch((error: unknown) => {
          startTogether.release(); // a failed sibling must not hold the others back
          throw error;
        }),
      ),
    );
    ready.forEach((node, i) => results[i]!.cloned && cloned.push(node.name));
    started.push(...ready);
  }
  await applyConfig(cluster);
  options.onEvent({ type: 'step', message: 'proving replication: streaming, then replay of a probe write' });
  const proofs = await proveReplication(cluster, started);
  if (diverged.size > 0) throw divergedError([...diverged].join(', '));
  return { dir: options.root, created: isNew, primary: primaryOf(cluster.spec).name, cloned, proofs };
}
