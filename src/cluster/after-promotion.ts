import { startServer } from '../pg/server.js';
import type { NodeSpec } from '../spec/schema.js';
import { nodeNamed, primaryOf, replicasOf } from '../spec/topology.js';
import { applyConfig } from './apply-config.js';
import { writeServerFiles } from './configure.js';
import { instanceOf, type Cluster } from './context.js';
import type { OnEvent } from './events.js';
import { fence } from './fence.js';
import { follow, followWhileStopped, forgetUpstream } from './follow.js';
import { writeNodeState } from './node-state.js';
import { proveReplication } from './prove.js';
import { reconcileSlots, reserveIdleSlots } from './slots.js';

/**
 * The steps after a promotion that failover and switchover share, each safe to repeat: an
 * interrupted command's resume runs them again from the start.
 */

/** Who a failover's promotion left where, for the steps after it. */
export interface Promoted {
  readonly oldPrimary: NodeSpec;
  readonly candidate: NodeSpec;
  /** Replicas holding WAL the candidate lacks: fenced, never repointed. */
  readonly ahead: readonly string[];
  /** Replicas repointed to the candidate ahead of its promotion, and those of them that loaded it. */
  readonly followers: readonly NodeSpec[];
  readonly attached: readonly string[];
  /** Replicas whose server ran when the candidate was chosen. */
  readonly running: readonly string[];
}

/**
 * After a failover's promotion: the new primary forgets its upstream and gets every replica's slot
 * (one made ahead for a follower that did not attach is made to reserve WAL); replicas holding WAL
 * it lacks are fenced, the others not yet attached follow it; then the replicas that were running
 * prove they stream.
 */
export async function settleAround(cluster: Cluster, p: Promoted, onEvent: OnEvent): Promise<void> {
  await forgetUpstream(cluster, p.candidate);
  await reconcileSlots(cluster, p.candidate);
  await reserveIdleSlots(cluster, p.candidate, p.followers.map((n) => n.name).filter((name) => !p.attached.includes(name)));
  for (const name of p.ahead) {
    onEvent({ type: 'warning', node: name, message: `holds WAL ${p.candidate.name} lacks; fenced, bring it back with \`pgrepl rejoin ${name}\`` });
    await fence(cluster, nodeNamed(cluster.spec, name)!);
  }
  for (const name of p.attached) onEvent({ type: 'step', node: name, message: `now streams from ${p.candidate.name}` });
  const unreached = await repointAll(cluster, [p.oldPrimary.name, p.candidate.name, ...p.ahead, ...p.attached], onEvent);
  await applyConfig(cluster);
  const skip = new Set([p.oldPrimary.name, ...unreached, ...p.ahead]);
  await proveReplication(cluster, replicasOf(cluster.spec).filter((n) => p.running.includes(n.name) && !skip.has(n.name)));
}

/**
 * Brings the cleanly stopped old primary back as a standby of the new one. No rewind: its last
 * record, the shutdown checkpoint, is where the new timeline forks. Unfenced only once it runs.
 */
export async function restartAsReplica(cluster: Cluster, node: NodeSpec, upstream: NodeSpec): Promise<void> {
  await writeServerFiles(cluster, node);
  await followWhileStopped(cluster, node, upstream);
  await startServer(instanceOf(cluster, node));
  await writeNodeState(cluster.layout, node.name, { phase: 'ready' });
  await reconcileSlots(cluster, node);
}

/**
 * Points every replica of the new primary at it, running or stopped, except `skip`. One that cannot
 * be reached is reported and left for `pgrepl up`, which repoints replicas to the spec's upstream.
 */
export async function repointAll(cluster: Cluster, skip: readonly string[], onEvent: OnEvent): Promise<string[]> {
  const primary = primaryOf(cluster.spec);
  const failed: string[] = [];
  await Promise.all(
    cluster.spec.nodes
      .filter((n) => n.upstream === primary.name && !skip.includes(n.name))
      .map(async (node) => {
        try {
          await follow(cluster, node, primary);
          onEvent({ type: 'step', node: node.name, message: `now streams from ${primary.name}` });
        } catch (error) {
          onEvent({ type: 'warning', node: node.name, message: `could not repoint it to ${primary.name} (${(error as Error).message}); \`pgrepl up\` will` });
          failed.push(node.name);
        }
      }),
  );
  return failed;
}
