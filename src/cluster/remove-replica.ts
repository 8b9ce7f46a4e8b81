import { UsageError } from '../errors.js';
import { stopServer } from '../pg/server.js';
import { clusterSpecSchema, type ClusterSpec } from '../spec/schema.js';
import { downstreamOf, nodeNamed } from '../spec/topology.js';
import { applyConfig } from './apply-config.js';
import { instanceOf, type Cluster } from './context.js';
import { saveSpec } from './create.js';
import { PreconditionError } from './errors.js';
import type { OnEvent } from './events.js';
import { follow } from './follow.js';
import { readNodeState } from './node-state.js';
import { dropSlotWhenInactive, reconcileSlots } from './slots.js';
import { quorumMembers } from './sync.js';
import { unknownNode } from './url.js';

export interface RemoveReplicaOptions {
  readonly keepData: boolean;
  /** Where the removed node's own replicas should stream from instead. */
  readonly reattachTo?: string;
  readonly onEvent: OnEvent;
}

export interface RemoveReplicaResult {
  readonly node: string;
  readonly reattached: readonly string[];
  readonly dataKept: boolean;
}

/** The spec without `name`, its downstream moved to `reattachTo`; refuses what would break a rule. */
export function specWithout(spec: ClusterSpec, name: string, reattachTo: string | undefined): ClusterSpec {
  const node = nodeNamed(spec, name)!;
  if (node.upstream === undefined) {
    throw new PreconditionError(`${name} is the primary and cannot be removed`, { hint: `\`pgrepl switchover\` to another node first, then remove ${name}` });
  }
  const downstream = downstreamOf(spec, name);
  if (downstream.length > 0 && reattachTo === undefined) {
    throw new PreconditionError(`${downstream.map((n) => n.name).join(', ')} stream from ${name}`, {
      hint: `pass --reattach-to NODE to move them (e.g. --reattach-to ${node.upstream}), or remove them first`,
    });
  }
  if (reattachTo !== undefined && (reattachTo === name || !nodeNamed(spec, reattachTo))) {
    throw new UsageError(`--reattach-to ${reattachTo} must name another node of the cluster`);
  }
  const nodes = spec.nodes.filter((n) => n.name !== name).map((n) => (n.upstream === name ? { ...n, upstream: reattachTo! } : n));
  const next = { ...spec, nodes };
  const members = quorumMembers(next).length;
  if (spec.replication.sync > members) {
    throw new PreconditionError(`removing ${name} leaves ${members} synchronous candidate(s) for a quorum of ${spec.replication.sync}; commits would hang`, {
      hint: `lower it first: \`pgrepl set sync ${members}\``,
    });
  }
  return clusterSpecSchema.parse(next);
}

/**
 * Retires a replica: stops it, moves its replicas, drops its slot upstream (a forgotten slot would
 * hold WAL until the cap), takes it out of the spec and of synchronous_standby_names, and deletes
 * its data unless asked to keep it.
 */
export async function removeReplica(cluster: Cluster, name: string, options: RemoveReplicaOptions): Promise<RemoveReplicaResult> {
  const node = nodeNamed(cluster.spec, name);
  if (!node) throw unknownNode(cluster, name);
  const next = specWithout(cluster.spec, name, options.reattachTo);
  const reattached = downstreamOf(cluster.spec, name).map((n) => n.name);
  // The spec changes last, once the cluster matches it: a failure before leaves the node in it.
  const after = { ...cluster, spec: next };
  options.onEvent({ type: 'step', node: name, message: 'stopping' });
  await stopServer(instanceOf(cluster, node), 'fast');
  if (options.reattachTo) {
    const target = nodeNamed(next, options.reattachTo)!;
    await reconcileSlots(after, target);
    for (const child of reattached) {
      options.onEvent({ type: 'step', node: child, message: `now streams from ${target.name}` });
      await follow(after, nodeNamed(next, child)!, target);
    }
  }
  const upstream = nodeNamed(next, node.upstream!)!;
  options.onEvent({ type: 'step', node: upstream.name, message: `dropping slot ${name}` });
  await dropSlotWhenInactive(after, upstream, name);
  // Before the spec changes: a removal refused midway (a path swapped under it) leaves the node
  // in the spec, so running the command again finishes it, as the refusal's hint says.
  if (!options.keepData && (await readNodeState(cluster.layout, name)) !== null) {
    await cluster.layout.removeTree(cluster.layout.nodeDir(name));
  } else {
    // Kept data is the user's from now on: without a build state, nothing pgrepl does touches it.
    await cluster.layout.removeTree(cluster.layout.nodeStateFile(name));
  }
  const saved = await saveSpec(cluster, next);
  await applyConfig(saved);
  return { node: name, reattached, dataKept: options.keepData };
}
