import { serverLook, serverPosition, type ServerPosition, type Slot, type WalSender } from '../pg/queries.js';
import { isRunning } from '../pg/server.js';
import { withConnection, type Connector } from '../pg/sql.js';
import type { NodeSpec } from '../spec/schema.js';
import { adminTarget, instanceOf, type Cluster } from './context.js';
import { readNodeState } from './node-state.js';

/** What one node reported, read once; `assess` turns a set of these into status and warnings. */
export interface NodeObservation {
  readonly node: NodeSpec;
  readonly running: boolean;
  /** Null when not running or not reachable; `error` then says why if it was running. */
  readonly position: ServerPosition | null;
  readonly senders: readonly WalSender[];
  readonly slots: readonly Slot[];
  readonly error: string | null;
  /** Fenced by a failover: must be rewound (`pgrepl rejoin`) before it may run. */
  readonly diverged: boolean;
}

export interface ObserveOptions {
  /** How to reach the servers: a fresh connection each by default, or held ones. */
  readonly via?: Connector;
  /** Read only each node's position (all a failover compares), not its walsenders and slots. */
  readonly positionsOnly?: boolean;
}

async function observeNode(cluster: Cluster, node: NodeSpec, { via = withConnection, positionsOnly = false }: ObserveOptions): Promise<NodeObservation> {
  const running = await isRunning(instanceOf(cluster, node));
  const phase = (await readNodeState(cluster.layout, node.name))?.phase;
  const diverged = phase === 'diverged' || phase === 'rewinding';
  const quiet = { node, running, position: null, senders: [], slots: [], error: null, diverged };
  if (!running) return quiet;
  try {
    return await via(
      adminTarget(cluster, node),
      async (db) => (positionsOnly ? { ...quiet, position: await serverPosition(db) } : { ...quiet, ...(await serverLook(db)) }),
      3000,
    );
  } catch (error) {
    return { ...quiet, error: (error as Error).message };
  }
}

/** Observes every node of the spec (or the given ones) in parallel. */
export function observeCluster(cluster: Cluster, nodes: readonly NodeSpec[] = cluster.spec.nodes, options: ObserveOptions = {}): Promise<NodeObservation[]> {
  return Promise.all(nodes.map((node) => observeNode(cluster, node, options)));
}
