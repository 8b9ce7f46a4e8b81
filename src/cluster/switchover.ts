import { controlData } from '../pg/controldata.js';
import { formatLsn, type Lsn } from '../pg/lsn.js';
import { checkpoint, serverPosition } from '../pg/queries.js';
import { startServer, stopServer } from '../pg/server.js';
import { withConnection } from '../pg/sql.js';
import type { NodeSpec } from '../spec/schema.js';
import { nodeNamed, primaryOf, withNewPrimary } from '../spec/topology.js';
import { waitFor } from '../util/wait.js';
import { repointAll, restartAsReplica } from './after-promotion.js';
import { applyConfig } from './apply-config.js';
import { attachedNames, repointAhead } from './attach.js';
import { chooseSwitchoverCandidate, standings } from './candidate.js';
import { writeServerFiles } from './configure.js';
import { adminTarget, instanceOf, type Cluster } from './context.js';
import { saveSpec } from './create.js';
import { PreconditionError } from './errors.js';
import type { OnEvent } from './events.js';
import { follow, forgetUpstream } from './follow.js';
import { removeIntent, writeIntent, type SwitchoverStep } from './intent.js';
import type { ClusterLayout } from './layout.js';
import { observeCluster, type NodeObservation } from './observe.js';
import { promote } from './promote.js';
import { proveReplication } from './prove.js';
import type { OldPrimaryEnd } from './resume-plan.js';
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

/** Records a switchover's steps in the intent file (see intent.ts). */
export type SwitchoverRecorder = (step: SwitchoverStep) => Promise<void>;

export function switchoverRecorder(layout: ClusterLayout, from: string, to: string, startedAt = new Date().toISOString()): SwitchoverRecorder {
  return (step) => writeIntent(layout, { op: 'switchover', from, to, step, startedAt });
}

/** The old primary and the candidate, or a refusal before anything is touched. */
async function chooseCandidate(cluster: Cluster, options: SwitchoverOptions): Promise<{ oldPrimary: NodeSpec; candidate: NodeSpec; observations: NodeObservation[] }> {
  const oldPrimary = primaryOf(cluster.spec);
  const observations = await observeCluster(cluster);
  const primaryObs = observations.find((o) => o.node.name === oldPrimary.name)!;
  if (!primaryObs.position || primaryObs.position.inRecovery || primaryObs.position.lsn === null) {
    throw new PreconditionError(`the primary ${oldPrimary.name} is not running as a primary, so there is nothing to switch over from`, {
      hint: `start it with \`pgrepl up\`, or use \`pgrepl failover\` if it is lost`,
    });
  }
  const candidate = nodeNamed(cluster.spec, chooseSwitchoverCandidate(standings(cluster.spec, observations), primaryObs.position.lsn, options.to, options.maxLagBytes).name)!;
  return { oldPrimary, candidate, observations };
}

/**
 * Planned change of primary with no lost writes. The old primary is shut down cleanly, which makes
 * its walsenders ship every record up to the shutdown checkpoint; the candidate must then have
 * replayed past that checkpoint (checked by LSN from pg_controldata, not assumed) before it is
 * promoted. If it has not, the old primary is started again and nothing changes. Each step is
 * recorded in the intent file first, so an interrupted switchover is finished by the next one.
 */
export async function switchover(cluster: Cluster, options: SwitchoverOptions): Promise<SwitchoverResult> {
  const started = Date.now();
  const { oldPrimary, candidate, observations } = await chooseCandidate(cluster, options);
  const next = { ...cluster, spec: withNewPrimary(cluster.spec, candidate.name) };
  const record = switchoverRecorder(cluster.layout, oldPrimary.name, candidate.name);
  await record('started');
  try {
    options.onEvent({ type: 'step', node: candidate.name, message: 'preparing: slots for its future replicas, synchronous settings' });
    await reconcileSlots(next, candidate);
    // The quorum the new primary must enforce from its first commit (loaded by promote()).
    await writeServerFiles(next, candidate);
    await withConnection(adminTarget(cluster, oldPrimary), checkpoint); // so the shutdown checkpoint is quick
  } catch (error) {
    await removeIntent(cluster.layout); // nothing irreversible yet; `up` puts the candidate's slots and settings back
    throw error;
  }
  options.onEvent({ type: 'step', node: oldPrimary.name, message: 'stopping the primary cleanly (writes pause here)' });
  const pauseStarted = Date.now();
  await record('stopping');
  // Fenced until it runs again as a standby: if this command dies midway, nothing (not `up`)
  // starts the old primary writable beside a promoted candidate.
  await writeNodeState(cluster.layout, oldPrimary.name, { phase: 'diverged', since: new Date().toISOString() });
  await stopServer(instanceOf(cluster, oldPrimary), 'fast');
  const { checkpointLsn, attached } = await promoteAfterShutdown(cluster, oldPrimary, candidate, observations, record, options.onEvent);
  const writeUnavailableMs = Date.now() - pauseStarted;
  await finishSwitchover(cluster, oldPrimary, candidate, { attached, oldPrimary: 'restart-as-replica' }, record, options.onEvent);
  return { from: oldPrimary.name, to: candidate.name, writeUnavailableMs, totalMs: Date.now() - started, shutdownCheckpointLsn: formatLsn(checkpointLsn) };
}

/**
 * With the old primary cleanly stopped: waits for the candidate to replay its shutdown checkpoint
 * (or undoes the switchover), then promotes it with the followers attached ahead.
 */
export async function promoteAfterShutdown(cluster: Cluster, oldPrimary: NodeSpec, candidate: NodeSpec, observations: readonly NodeObservation[], record: SwitchoverRecorder, onEvent: OnEvent): Promise<{ checkpointLsn: Lsn; attached: string[] }> {
  const next = { ...cluster, spec: withNewPrimary(cluster.spec, candidate.name) };
  const shutdown = await controlData(cluster.bin, cluster.user, cluster.layout.dataDir(oldPrimary.name));
  await replayedOrUndone(cluster, oldPrimary, candidate, shutdown.checkpointLsn, onEvent);
  await record('stopped');
  onEvent({ type: 'step', node: candidate.name, message: `promoting (replayed past ${formatLsn(shutdown.checkpointLsn)})` });
  const followers = followersAhead(cluster, observations, oldPrimary, candidate);
  const repoints = repointAhead(next, candidate, followers, Promise.resolve(true), withConnection, onEvent);
  try {
    await promote(next, candidate);
  } catch (error) {
    for (const name of await attachedNames(followers, repoints)) {
      onEvent({ type: 'warning', node: name, message: `streams from ${candidate.name}, which was not promoted` });
    }
    throw error;
  }
  await record('promoted');
  return { checkpointLsn: shutdown.checkpointLsn, attached: await attachedNames(followers, repoints) };
}

/**
 * After the candidate's promotion, each step safe to repeat: the spec names it, the replicas
 * follow it, the old primary comes back as its replica (or, if it did not stop cleanly, stays
 * fenced for `rejoin`), replication is proven, and the intent is removed.
 */
export async function finishSwitchover(cluster: Cluster, oldPrimary: NodeSpec, candidate: NodeSpec, how: { attached: readonly string[]; oldPrimary: OldPrimaryEnd }, record: SwitchoverRecorder, onEvent: OnEvent): Promise<Cluster> {
  const saved = primaryOf(cluster.spec).name === candidate.name ? cluster : await saveSpec(cluster, withNewPrimary(cluster.spec, candidate.name));
  await record('spec-saved');
  for (const name of how.attached) onEvent({ type: 'step', node: name, message: `now streams from ${candidate.name}` });
  await forgetUpstream(saved, candidate);
  const unreached = await repointAll(saved, [oldPrimary.name, candidate.name, ...how.attached], onEvent);
  await record('followers-repointed');
  const old = nodeNamed(saved.spec, oldPrimary.name)!;
  if (how.oldPrimary === 'leave-fenced') {
    onEvent({ type: 'warning', node: old.name, message: `did not stop cleanly; fenced, bring it back with \`pgrepl rejoin ${old.name}\`` });
  } else {
    onEvent({ type: 'step', node: old.name, message: `restarting as a replica of ${candidate.name}` });
    if (how.oldPrimary === 'restart-as-replica') await restartAsReplica(saved, old, candidate);
    else await rejoinRunning(saved, old, candidate);
    await record('old-primary-restarted');
  }
  await applyConfig(saved);
  const skip = new Set([...unreached, ...(how.oldPrimary === 'leave-fenced' ? [old.name] : [])]);
  await proveReplication(saved, saved.spec.nodes.filter((n) => n.upstream !== undefined && !skip.has(n.name)));
  await removeIntent(saved.layout);
  return saved;
}

/** The old primary already runs as a standby (restarted before an interruption): it follows the candidate, unfenced. */
async function rejoinRunning(cluster: Cluster, node: NodeSpec, upstream: NodeSpec): Promise<void> {
  await follow(cluster, node, upstream);
  await writeNodeState(cluster.layout, node.name, { phase: 'ready' });
  await reconcileSlots(cluster, node);
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
    await undoSwitchover(cluster, oldPrimary, candidate);
    throw error;
  }
}

/**
 * Puts back what a switchover did before the candidate's promotion: the old primary runs again
 * (after crash recovery if it did not stop cleanly), unfenced; the candidate's slots for its
 * would-be replicas and its new settings are undone; the intent is removed.
 */
export async function undoSwitchover(cluster: Cluster, oldPrimary: NodeSpec, candidate: NodeSpec): Promise<void> {
  await startServer(instanceOf(cluster, oldPrimary));
  await writeNodeState(cluster.layout, oldPrimary.name, { phase: 'ready' });
  await writeServerFiles(cluster, candidate);
  await reconcileSlots(cluster, candidate);
  await removeIntent(cluster.layout);
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
