import { controlData } from '../pg/controldata.js';
import { formatLsn, type Lsn } from '../pg/lsn.js';
import { checkpoint, serverPosition } from '../pg/queries.js';
import { startServer, stopServer } from '../pg/server.js';
import { withConnection } from '../pg/sql.js';
import type { NodeSpec } from '../spec/schema.js';
import { nodeNamed, primaryOf, withNewPrimary } from '../spec/topology.js';
import { waitFor } from '../util/wait.js';
import { applyConfig } from './apply-config.js';
import { attachedNames, repointAhead } from './attach.js';
import { chooseSwitchoverCandidate, standings } from './candidate.js';
import { writeServerFiles } from './configure.js';
import { adminTarget, instanceOf, type Cluster } from './context.js';
import { saveSpec } from './create.js';
import { PreconditionError } from './errors.js';
import type { OnEvent } from './events.js';
import { follow, followWhileStopped, forgetUpstream } from './follow.js';
import { observeCluster, type NodeObservation } from './observe.js';
import { promote } from './promote.js';
import { proveReplication } from './prove.js';
import { reconcileSlots } from './slots.js';
import { writeNodeState } from './node-state.js';

export interface SwitchoverOptions {
  readonly to?: string;
  readonly maxLagBytes: number;
  readonly onEvent: OnEvent;
}

export interface SwitchoverResult {
  readonly from: string;
  readonly to: string;
  /** From the old primary's shutdown request to the new primary accepting writes. */
  readonly writeUnavailableMs: number;
  readonly totalMs: number;
  /** The old primary's shutdown checkpoint, which the new primary replayed before promotion. */
  readonly shutdownCheckpointLsn: string;
}

export const DEFAULT_MAX_LAG_BYTES = 16 * 2 ** 20;

/**
 * Planned change of primary with no lost writes. The old primary is shut down cleanly, which makes
 * its walsenders ship every record up to the shutdown checkpoint; the candidate must then have
 * replayed past that checkpoint (checked by LSN from pg_controldata, not assumed) before it is
 * promoted. If it has not, the old primary is started again and nothing changes.
 */
export async function switchover(cluster: Cluster, options: SwitchoverOptions): Promise<SwitchoverResult> {
  const started = Date.now();
  const oldPrimary = primaryOf(cluster.spec);
  const observations = await observeCluster(cluster);
  const primaryObs = observations.find((o) => o.node.name === oldPrimary.name)!;
  if (!primaryObs.position || primaryObs.position.inRecovery || primaryObs.position.lsn === null) {
    throw new PreconditionError(`the primary ${oldPrimary.name} is not running as a primary, so there is nothing to switch over from`, {
      hint: `start it with \`pgrepl up\`, or use \`pgrepl failover\` if it is lost`,
    });
  }
  const candidate = nodeNamed(cluster.spec, chooseSwitchoverCandidate(standings(cluster.spec, observations), primaryObs.position.lsn, options.to, options.maxLagBytes).name)!;
  const next = { ...cluster, spec: withNewPrimary(cluster.spec, candidate.name) };

  options.onEvent({ type: 'step', node: candidate.name, message: 'preparing: slots for its future replicas, synchronous settings' });
  await reconcileSlots(next, candidate);
  // The quorum the new primary must enforce from its first commit (loaded by promote()).
  await writeServerFiles(next, candidate);
  await withConnection(adminTarget(cluster, oldPrimary), checkpoint); // so the shutdown checkpoint is quick

  options.onEvent({ type: 'step', node: oldPrimary.name, message: 'stopping the primary cleanly (writes pause here)' });
  const pauseStarted = Date.now();
  // Fenced until it runs again as a standby: if this command dies midway, nothing (not `up`)
  // starts the old primary writable beside a promoted candidate.
  await writeNodeState(cluster.layout, oldPrimary.name, { phase: 'diverged', since: new Date().toISOString() });
  await stopServer(instanceOf(cluster, oldPrimary), 'fast');
  const shutdown = await controlData(cluster.bin, cluster.user, cluster.layout.dataDir(oldPrimary.name));
  await replayedOrUndone(cluster, oldPrimary, candidate, shutdown.checkpointLsn, options.onEvent);
  options.onEvent({ type: 'step', node: candidate.name, message: `promoting (replayed past ${formatLsn(shutdown.checkpointLsn)})` });
  const followers = followersAhead(cluster, observations, oldPrimary, candidate);
  const repoints = repointAhead(next, candidate, followers, Promise.resolve(true), withConnection, options.onEvent);
  try {
    await promote(next, candidate);
  } catch (error) {
    for (const name of await attachedNames(followers, repoints)) {
      options.onEvent({ type: 'warning', node: name, message: `streams from ${candidate.name}, which was not promoted` });
    }
    throw error;
  }
  const writeUnavailableMs = Date.now() - pauseStarted;
  const saved = await saveSpec(cluster, next.spec);
  const attached = await attachedNames(followers, repoints);
  for (const name of attached) options.onEvent({ type: 'step', node: name, message: `now streams from ${candidate.name}` });

  await forgetUpstream(saved, candidate);
  const unreached = await repointAll(saved, [oldPrimary.name, candidate.name, ...attached], options.onEvent);
  options.onEvent({ type: 'step', node: oldPrimary.name, message: `restarting as a replica of ${candidate.name}` });
  await restartAsReplica(saved, nodeNamed(saved.spec, oldPrimary.name)!, candidate);
  await applyConfig(saved);
  await proveReplication(saved, saved.spec.nodes.filter((n) => n.upstream !== undefined && !unreached.includes(n.name)));
  return { from: oldPrimary.name, to: candidate.name, writeUnavailableMs, totalMs: Date.now() - started, shutdownCheckpointLsn: formatLsn(shutdown.checkpointLsn) };
}

/**
 * Waits until the candidate has replayed past the stopped old primary's shutdown checkpoint. If it
 * does not in time, the switchover is undone (the old primary restarted, the candidate's slots and
 * settings put back) and the wait's error rethrown: nothing changed.
 */
async function replayedOrUndone(cluster: Cluster, oldPrimary: NodeSpec, candidate: NodeSpec, checkpointLsn: Lsn, onEvent: OnEvent): Promise<void> {
  try {
    // One connection for the whole wait: writes are paused, a handshake per poll would lengthen it.
    await withConnection(adminTarget(cluster, candidate), (db) =>
      waitFor(
        async () => {
          const replayed = (await serverPosition(db)).replayLsn;
          return replayed !== null && replayed > checkpointLsn ? true : undefined;
        },
        { what: `${candidate.name} to replay ${oldPrimary.name}'s shutdown checkpoint at ${formatLsn(checkpointLsn)}`, timeoutMs: 10_000, intervalMs: 2 },
      ),
    );
  } catch (error) {
    onEvent({ type: 'warning', node: oldPrimary.name, message: 'candidate did not catch up; restarting the old primary, nothing changed' });
    await startServer(instanceOf(cluster, oldPrimary));
    await writeNodeState(cluster.layout, oldPrimary.name, { phase: 'ready' });
    // Undo the preparation: the candidate's slots for its would-be replicas and its new settings.
    await writeServerFiles(cluster, candidate);
    await reconcileSlots(cluster, candidate);
    throw error;
  }
}

/**
 * The replicas repointed to the candidate while it is promoted, once it has every record of the
 * old primary (so none of them can be ahead of it; their slots were made on it beforehand): under a
 * synchronous quorum, so the quorum is there for its first commit. Without one they are repointed
 * after, off the write pause.
 */
function followersAhead(cluster: Cluster, observations: readonly NodeObservation[], oldPrimary: NodeSpec, candidate: NodeSpec): NodeSpec[] {
  if (cluster.spec.replication.sync === 0) return [];
  return observations.filter((o) => o.node.upstream === oldPrimary.name && o.node.name !== candidate.name && o.position?.inRecovery).map((o) => o.node);
}

/**
 * Brings the cleanly stopped old primary back as a standby of the new one. No rewind: its last
 * record, the shutdown checkpoint, is where the new timeline forks. Unfenced only once it runs.
 */
async function restartAsReplica(cluster: Cluster, node: NodeSpec, upstream: NodeSpec): Promise<void> {
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
