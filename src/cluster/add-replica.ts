import { UsageError } from '../errors.js';
import { clusterSpecSchema, type ClusterSpec, type NodeSpec } from '../spec/schema.js';
import { nextNodeName, nodeNamed, primaryOf } from '../spec/topology.js';
import { applyConfig } from './apply-config.js';
import type { Cluster } from './context.js';
import { portsForNewNodes, saveSpec } from './create.js';
import type { OnEvent } from './events.js';
import { proveReplication, type ReplicaProof } from './prove.js';
import { ensureReplica } from './replica.js';
import { unknownNode } from './url.js';

export interface AddReplicaOptions {
  readonly name?: string;
  /** Upstream node; a replica here makes the new one cascading. Default: the primary. */
  readonly from?: string;
  /** recovery_min_apply_delay, e.g. 5min. */
  readonly delay?: string;
  /** Make it a synchronous standby (joins the quorum; K becomes at least 1). */
  readonly sync: boolean;
  readonly port?: number;
  readonly onEvent: OnEvent;
}

export interface AddReplicaResult {
  readonly node: NodeSpec;
  readonly proof: ReplicaProof;
  readonly sync: number;
}

/** The spec with the new node, validated by the schema so every rule gives its usual message. */
export function specWithReplica(spec: ClusterSpec, node: NodeSpec, sync: boolean): ClusterSpec {
  if (nodeNamed(spec, node.name)) throw new UsageError(`a node named '${node.name}' already exists`, { hint: 'choose another --name' });
  if (sync && (node.upstream !== primaryOf(spec).name || node.delay !== undefined)) {
    throw new UsageError('--sync needs a replica of the primary without --delay: cascaded and delayed replicas cannot confirm commits in time', {
      hint: 'drop --from/--delay, or drop --sync',
    });
  }
  const replication = sync ? { ...spec.replication, sync: Math.max(1, spec.replication.sync) } : spec.replication;
  const result = clusterSpecSchema.safeParse({ ...spec, replication, nodes: [...spec.nodes, node] });
  if (!result.success) {
    const issue = result.error.issues[0]!;
    throw new UsageError(`invalid replica: ${issue.path.slice(2).join('.') || issue.path.join('.')}: ${issue.message}`);
  }
  return result.data;
}

/** Clones a new replica (cascading with `from` a replica, delayed with `delay`), proves it, records it. */
export async function addReplica(cluster: Cluster, options: AddReplicaOptions): Promise<AddReplicaResult> {
  const upstream = options.from === undefined ? primaryOf(cluster.spec) : nodeNamed(cluster.spec, options.from);
  if (!upstream) throw unknownNode(cluster, options.from!);
  const [port] = await portsForNewNodes(cluster.spec, 1, options.port, [upstream.host]);
  const node: NodeSpec = {
    name: options.name ?? nextNodeName(cluster.spec),
    host: upstream.host,
    port: port!,
    upstream: upstream.name,
    ...(options.delay ? { delay: options.delay } : {}),
  };
  const updated = await saveSpec(cluster, specWithReplica(cluster.spec, node, options.sync));
  await ensureReplica(updated, node, { onEvent: options.onEvent });
  await applyConfig(updated);
  const [proof] = await proveReplication(updated, [node]);
  return { node, proof: proof!, sync: updated.spec.replication.sync };
}
