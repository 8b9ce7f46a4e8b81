import { controlData } from '../pg/controldata.js';
import { formatLsn, lsnDistance, type Lsn } from '../pg/lsn.js';
import { walEnd } from '../pg/wal-end.js';
import { nodeNamed, primaryOf, replicasOf, withNewPrimary } from '../spec/topology.js';
import { ensurePhysicalSlot, reloadConf, serverPosition, writeUpstream } from '../pg/queries.js';
import { serverProcessesGone } from '../pg/postmaster-pid.js';
import { isRunning, startServer } from '../pg/server.js';
import type { NodeSpec } from '../spec/schema.js';
import { quorumMembers } from './sync.js';
import { withConnection, withSessions, type Connector, type Queryable } from '../pg/sql.js';
import { applyConfig } from './apply-config.js';
import { chooseFailoverCandidate, standings, withDiskPositions, type Standing } from './candidate.js';
import { adminTarget, instanceOf, replicationConninfo, type Cluster } from './context.js';
import { saveSpec } from './create.js';
import { PreconditionError } from './errors.js';
import type { OnEvent } from './events.js';
import { fence } from './fence.js';
import { forgetUpstream } from './follow.js';
import { observeCluster, type NodeObservation } from './observe.js';
import { promote } from './promote.js';
import { proveReplication } from './prove.js';
import { reconcileSlots } from './slots.js';
import { repointAll } from './switchover.js';

export interface FailoverOptions {
  readonly to?: string;
  /** Fail over even though the primary answers, or to a replica that received less WAL than another. */
  readonly force: boolean;
  readonly onEvent: OnEvent;
}

export interface FailoverResult {
  readonly from: string;
  readonly to: string;
  /** From the decision to promote to the new primary accepting writes. */
  readonly promotedInMs: number;
  readonly totalMs: number;
  /** WAL the old primary wrote past what the new primary had received; null when it cannot be read. */
  readonly walBytesNotOnNewPrimary: number | null;
  readonly synchronous: boolean;
  /** Synchronous standbys whose WAL position was unknown: acknowledged commits may be lost if any. */
  readonly uncomparedQuorumMembers: readonly string[];
  readonly fenced: { readonly node: string; readonly wasRunning: boolean };
}

/**
 * Where each stopped replica's received WAL ends, read from its pg_wal: a synchronous quorum member
 * that is down may hold the only copy of an acknowledged commit, so it must be compared too.
 */
async function stoppedPositions(cluster: Cluster, look: readonly NodeObservation[]): Promise<Map<string, Lsn>> {
  const positions = new Map<string, Lsn>();
  for (const obs of look) {
    if (obs.running || obs.diverged) continue;
    const end = await storedWalEnd(cluster, obs.node.name);
    if (end !== null) positions.set(obs.node.name, end);
  }
  return positions;
}

async function storedWalEnd(cluster: Cluster, name: string): Promise<Lsn | null> {
  try {
    const dataDir = cluster.layout.dataDir(name);
    const control = await controlData(cluster.bin, cluster.user, dataDir);
    return await walEnd(cluster.bin, cluster.user, dataDir, control.checkpointLsn, control.timeline);
  } catch {
    return null;
  }
}

type PrimaryHealth = 'gone' | 'dying' | 'writable' | 'in recovery' | 'unreachable';

/**
 * How the old primary stands, without waiting on it: `gone` when its postmaster and every process
 * of its server have exited, `dying` while orphaned backends remain, else what a short connect says.
 * `unreachable` (running, not answering) may still be a working primary: busy, out of connections.
 */
async function primaryHealth(cluster: Cluster, node: NodeSpec): Promise<PrimaryHealth> {
  const instance = instanceOf(cluster, node);
  if (!(await isRunning(instance))) return (await serverProcessesGone(instance.dataDir)) ? 'gone' : 'dying';
  try {
    const position = await withConnection(adminTarget(cluster, node), serverPosition, 1000);
    return position.inRecovery ? 'in recovery' : 'writable';
  } catch {
    return 'unreachable';
  }
}

/** Replicas holding WAL the pick lacks (only when `--to` forced a less advanced one). */
function aheadOf(pick: Standing, all: readonly Standing[]): string[] {
  return all.filter((s) => s.name !== pick.name && s.receivedLsn !== null && s.receivedLsn > pick.receivedLsn!).map((s) => s.name);
}

/**
 * Before the promotion: the running replicas of the lost primary stream from the candidate at
 * once, as cascading standbys. A cascading standby follows its upstream's promotion on the
 * connection it holds, so a synchronous quorum can acknowledge the new primary's first commit
 * without waiting for a repoint after it. Each follower's new upstream is written while its slot
 * is made on the candidate (by `makeSlots`, on the promoting connection while its reload lands),
 * and loaded only once the slot exists: a walreceiver that finds no slot gives up until the retry
 * interval (5 s) has passed. The slots reserve WAL from their replica's first report: it is
 * already streaming, and wal_keep_size holds what it needs until then. `repoints` resolve to
 * whether each follower now follows the candidate (if not, the settle step repoints it).
 */
function attachFollowers(next: Cluster, candidate: NodeSpec, followers: readonly NodeSpec[], via: Connector) {
  let slotsMade: (made: boolean) => void = () => undefined;
  const slots = new Promise<boolean>((resolve) => (slotsMade = resolve));
  const makeSlots = async (db: Queryable): Promise<void> => {
    try {
      for (const node of followers) await ensurePhysicalSlot(db, node.name, false);
      slotsMade(true);
    } catch {
      slotsMade(false);
    }
  };
  const repoints = followers.map((node) =>
    via(adminTarget(next, node), async (db) => {
      await writeUpstream(db, replicationConninfo(next, node, candidate), node.name);
      if (!(await slots)) return false;
      await reloadConf(db);
      return true;
    }).catch(() => false),
  );
  return { makeSlots, repoints, abandon: () => slotsMade(false) };
}

/**
 * After a promotion: the new primary forgets its upstream; replicas holding WAL it lacks are
 * fenced, the others not yet attached follow it; then the replicas that were running prove they stream.
 */
async function settleAround(cluster: Cluster, oldPrimary: NodeSpec, candidate: NodeSpec, ahead: readonly string[], attached: readonly string[], running: readonly string[], onEvent: OnEvent): Promise<void> {
  await forgetUpstream(cluster, candidate);
  await reconcileSlots(cluster, candidate);
  for (const name of ahead) {
    onEvent({ type: 'warning', node: name, message: `holds WAL ${candidate.name} lacks; fenced, bring it back with \`pgrepl rejoin ${name}\`` });
    await fence(cluster, nodeNamed(cluster.spec, name)!);
  }
  for (const name of attached) onEvent({ type: 'step', node: name, message: `now streams from ${candidate.name}` });
  const unreached = await repointAll(cluster, [oldPrimary.name, candidate.name, ...ahead, ...attached], onEvent);
  await applyConfig(cluster);
  const skip = new Set([oldPrimary.name, ...unreached, ...ahead]);
  await proveReplication(cluster, replicasOf(cluster.spec).filter((n) => running.includes(n.name) && !skip.has(n.name)));
}

/**
 * Unplanned change of primary. The old primary is fenced first (stopped if it runs at all, marked
 * diverged, its orphaned processes gone), then the replica that received the most WAL is
 * promoted, the others follow it, and the WAL the old primary had that the new one lacks is
 * counted from the old primary's pg_wal. Every server is spoken to over one held connection:
 * the command's time up to the promotion is time the cluster cannot take writes.
 */
export function failover(cluster: Cluster, options: FailoverOptions): Promise<FailoverResult> {
  return withSessions((sessions) => failoverOver(cluster, sessions.with, options));
}

async function failoverOver(cluster: Cluster, via: Connector, options: FailoverOptions): Promise<FailoverResult> {
  const started = Date.now();
  const oldPrimary = primaryOf(cluster.spec);
  const replicas = replicasOf(cluster.spec);
  const [health, firstLook] = await Promise.all([primaryHealth(cluster, oldPrimary), observeCluster(cluster, replicas, { via, positionsOnly: true })]);
  if ((health === 'writable' || health === 'unreachable') && !options.force) {
    const what = health === 'writable' ? 'is running and accepts writes' : 'is running but did not answer within 1 s (it may still be serving writes)';
    throw new PreconditionError(`the primary ${oldPrimary.name} ${what}`, {
      hint: 'use `pgrepl switchover` for a planned change without lost writes, or pass --force to fence it and fail over anyway',
    });
  }
  const onDisk = await stoppedPositions(cluster, firstLook);
  chooseFailoverCandidate(withDiskPositions(standings(cluster.spec, firstLook), onDisk), options.to, options.force); // refuse before fencing anything
  options.onEvent({ type: 'step', node: oldPrimary.name, message: 'fencing: stopped if running, marked diverged' });
  const fenced = await fence(cluster, oldPrimary);
  // Candidates are compared once nothing of the old primary can send them WAL; if it was already
  // gone before the first look, that look stands.
  const look = health === 'gone' ? firstLook : await observeCluster(cluster, replicas, { via, positionsOnly: true });
  const all = withDiskPositions(standings(cluster.spec, look), onDisk);
  const pick = chooseFailoverCandidate(all, options.to, options.force);
  const candidate = nodeNamed(cluster.spec, pick.name)!;
  if (!pick.running) {
    options.onEvent({ type: 'step', node: candidate.name, message: 'starting it: it is stopped but holds the most WAL' });
    await startServer(instanceOf(cluster, candidate));
  }
  // Members of the synchronous quorum whose WAL could not be compared: an acknowledged commit may be only there.
  const uncompared = quorumMembers(cluster.spec).filter((name) => !all.some((s) => s.name === name && s.receivedLsn !== null));
  const ahead = aheadOf(pick, all);
  const running = look.filter((o) => o.running).map((o) => o.node.name);
  const followers = replicas.filter((n) => n.upstream === oldPrimary.name && n.name !== candidate.name && running.includes(n.name) && !ahead.includes(n.name));
  const next = { ...cluster, spec: withNewPrimary(cluster.spec, candidate.name) };
  const decided = Date.now();
  options.onEvent({ type: 'step', node: candidate.name, message: `promoting (received up to ${formatLsn(pick.receivedLsn!)})` });
  const attach = attachFollowers(next, candidate, followers, via);
  try {
    await promote(next, candidate, { via, whileReloading: attach.makeSlots });
  } finally {
    attach.abandon(); // the promotion failed before making the slots: followers stay where they are
  }
  const repointed = await Promise.all(attach.repoints);
  const attached = followers.filter((_, i) => repointed[i]).map((n) => n.name);
  const promotedInMs = Date.now() - decided;
  const saved = await saveSpec(cluster, next.spec);
  await settleAround(saved, oldPrimary, candidate, ahead, attached, running, options.onEvent);
  const end = await storedWalEnd(saved, oldPrimary.name);
  return {
    from: oldPrimary.name,
    to: candidate.name,
    promotedInMs,
    totalMs: Date.now() - started,
    walBytesNotOnNewPrimary: end === null ? null : lsnDistance(end, pick.receivedLsn!),
    synchronous: cluster.spec.replication.sync > 0,
    uncomparedQuorumMembers: uncompared,
    fenced: { node: oldPrimary.name, wasRunning: fenced.wasRunning },
  };
}
