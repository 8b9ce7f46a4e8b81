import { physicalSlots, serverPosition, walSenders, type ServerPosition, type Slot, type WalSender } from '../pg/queries.js';
import { isRunning } from '../pg/server.js';
import { withConnection } from '../pg/sql.js';
import type { NodeSpec } from '../spec/schema.js';
import { adminTarget, instanceOf, type Cluster } from './context.js';

/** What one node reported, read once; `assess` turns a set of these into status and warnings. */
export interface NodeObservation {
  readonly node: NodeSpec;
  readonly running: boolean;
  /** Null when not running or not reachable; `error` then says why if it was running. */
  readonly position: ServerPosition | null;
  readonly senders: readonly WalSender[];
  readonly slots: readonly Slot[];
  readonly error: string | null;
}

async function observeNode(cluster: Cluster, node: NodeSpec): Promise<NodeObservation> {
  const running = await isRunning(instanceOf(cluster, node));
  if (!running) return { node, running, position: null, senders: [], slots: [], error: null };
  try {
    return await withConnection(
      adminTarget(cluster, node),
      async (db) => ({ node, running, position: await serverPosition(db), senders: await walSenders(db), slots: await physicalSlots(db), error: null }),
      3000,
    );
  } catch (error) {
    return { node, running, position: null, senders: [], slots: [], error: (error as Error).message };
  }
}

/** Observes every node of the spec (or the given ones) in parallel. */
export function observeCluster(cluster: Cluster, nodes: readonly NodeSpec[] = cluster.spec.nodes): Promise<NodeObservation[]> {
  return Promise.all(nodes.map((node) => observeNode(cluster, node)));
}
