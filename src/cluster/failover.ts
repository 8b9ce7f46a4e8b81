import { controlData } from '../pg/controldata.js';
import { formatLsn, lsnDistance, type Lsn } from '../pg/lsn.js';
import { walEnd } from '../pg/wal-end.js';
import { nodeNamed, primaryOf, replicasOf, withNewPrimary } from '../spec/topology.js';
import { ensurePhysicalSlot, serverPosition } from '../pg/queries.js';
import { serverProcessesGone } from '../pg/postmaster-pid.js';
import { isRunning, startServer } from '../pg/server.js';
import type { NodeSpec } from '../spec/schema.js';
import { withConnection, withSessions, type Connector, type Queryable } from '../pg/sql.js';
import { settleAround } from './after-promotion.js';
import { standings, withDiskPositions, type Standing } from './candidate.js';
import { planFailover, refuseWhileAlive, type FailoverPlan, type FailoverSituation, type PrimaryHealth } from './failover-plan.js';
import { adminTarget, instanceOf, type Cluster } from './context.js';
import { saveSpec } from './create.js';
import type { OnEvent } from './events.js';
import { fence } from './fence.js';
import { followWhileStopped } from './follow.js';
import { removeIntent, writeIntent } from './intent.js';
import { describeAdoption, roguePrimaries, withAdoption, withRoguesFenced, type Adoption, type RoguePrimaries } from './adopt.js';
import { observeCluster, type NodeObservation } from './observe.js';
import { promote } from './promote.js';
import { attachedNames, repointAhead } from './attach.js';

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

/** What the pg_wal and control file of the stopped replicas say. */
interface StoppedReplicas {
  /** Where each one's received WAL ends. */
  readonly positions: ReadonlyMap<string, Lsn>;
  /** Those whose control file says they last ran as a primary (promoted, then stopped). */
  readonly primaries: readonly string[];
}

/**
 * Where each stopped replica's received WAL ends, read from its pg_wal: a synchronous quorum member
 * that is down may hold the only copy of an acknowledged commit, so it must be compared too.
 */
async function stoppedReplicas(cluster: Cluster, look: readonly NodeObservation[]): Promise<StoppedReplicas> {
  const positions = new Map<string, Lsn>();
  const primaries: string[] = [];
  for (const obs of look) {
    if (obs.running || obs.diverged) continue;
    const stored = await storedWal(cluster, obs.node.name);
    if (stored === null) continue;
    if (stored.end !== null) positions.set(obs.node.name, stored.end);
    if (stored.state === 'shut down' || stored.state === 'in production') primaries.push(obs.node.name);
  }
  return { positions, primaries };
}

async function storedWalEnd(cluster: Cluster, name: string): Promise<Lsn | null> {
  return (await storedWal(cluster, name))?.end ?? null;
}

/** Where a stopped node's WAL ends (null if pg_waldump cannot tell), and the state its control file was left in. */
async function storedWal(cluster: Cluster, name: string): Promise<{ end: Lsn | null; state: string } | null> {
  try {
    const dataDir = cluster.layout.dataDir(name);
    const control = await controlData(cluster.bin, cluster.user, dataDir);
    return { end: await walEnd(cluster.bin, cluster.user, dataDir, control.checkpointLsn, control.timeline), state: control.state };
  } catch {
    return null;
  }
}

/** How the old primary stands (see PrimaryHealth), without waiting on it. */
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

/** The followers' repoints ahead of the promotion, and the slots they wait for. */
interface Attachment {
  /** Makes the followers' slots on the candidate; run on the promoting connection while its reload lands. */
  readonly makeSlots: (db: Queryable) => Promise<void>;
  /** Stops followers from loading their new upstream: the promotion failed before their slots were made. */
  readonly abandon: () => void;
  /** Per follower: whether it loaded its new upstream. */
  readonly repoints: ReadonlyArray<Promise<boolean>>;
}

/**
 * Before the promotion, the running replicas of the lost primary are repointed to the candidate
 * (see repointAhead), through slots made on it on the promoting connection. The slots reserve WAL
 * from their replica's first report (half the fsyncs to make, on the promotion's path) when
 * wal_keep_size holds the WAL it needs until then; one whose replica never attaches is made again,
 * reserving, after the promotion (settleAround).
 */
function attachFollowers(next: Cluster, candidate: NodeSpec, followers: readonly NodeSpec[], via: Connector, onEvent: OnEvent): Attachment {
  let slotsMade: (made: boolean) => void = () => undefined;
  const slotsReady = new Promise<boolean>((resolve) => (slotsMade = resolve));
  const makeSlots = async (db: Queryable): Promise<void> => {
    try {
      const reserve = next.spec.replication.walKeepSizeMb === 0;
      for (const node of followers) await ensurePhysicalSlot(db, node.name, reserve);
      slotsMade(true);
    } catch (error) {
      onEvent({ type: 'warning', node: candidate.name, message: `could not make its replicas' slots before the promotion (${(error as Error).message}); they are repointed after it` });
      slotsMade(false);
    }
  };
  return { makeSlots, abandon: () => slotsMade(false), repoints: repointAhead(next, candidate, followers, slotsReady, via, onEvent) };
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

/**
 * Running replicas that do not answer (busy, out of connections) yet whose control file says they
 * run as a primary: promoted outside pgrepl, they may be taking writes.
 */
async function silentPrimaries(cluster: Cluster, look: readonly NodeObservation[]): Promise<string[]> {
  const silent = look.filter((o) => o.running && o.position === null && !o.diverged);
  const states = await Promise.all(silent.map((o) => controlData(cluster.bin, cluster.user, cluster.layout.dataDir(o.node.name)).then((c) => c.state, () => null)));
  return silent.filter((_, i) => states[i] === 'in production').map((o) => o.node.name);
}

/** Fences replicas found running, or last run, as primaries outside pgrepl, and their followers (only with --force). */
async function fenceRogues(cluster: Cluster, rogues: RoguePrimaries, onEvent: OnEvent): Promise<void> {
  const fenceOne = async (name: string, why: string): Promise<void> => {
    onEvent({ type: 'warning', node: name, message: `${why}; fenced (writes only there are set aside), bring it back with \`pgrepl rejoin ${name} --reclone\`` });
    await fence(cluster, nodeNamed(cluster.spec, name)!, { recloneOnly: true });
  };
  for (const name of rogues.toFence) await fenceOne(name, 'runs or ran as a primary outside pgrepl');
  for (const name of rogues.followersToFence) await fenceOne(name, 'streams the writes of a primary promoted outside pgrepl');
}

interface Choice {
  readonly oldPrimary: NodeSpec;
  readonly candidate: NodeSpec;
  readonly plan: FailoverPlan;
  /** Replicas whose server runs, as the deciding look saw them. */
  readonly running: readonly string[];
  readonly fenced: { readonly wasRunning: boolean };
  /** Set when the pick already runs as a primary and is adopted, not promoted. */
  readonly adoption: Adoption | null;
  readonly record: FailoverRecorder;
}

/** Records the failover's steps past fencing in the intent file (see intent.ts). */
type FailoverRecorder = (step: 'fenced' | 'promoted' | 'spec-saved') => Promise<void>;

/**
 * Fences the old primary and picks the candidate: refuses while the primary may still take writes
 * (unless forced), compares running replicas by position and stopped ones by the WAL on their disk,
 * and starts the pick if it is stopped.
 */
async function fenceAndChoose(cluster: Cluster, via: Connector, options: FailoverOptions): Promise<Choice> {
  const oldPrimary = primaryOf(cluster.spec);
  const replicas = replicasOf(cluster.spec);
  const [health, firstLook] = await Promise.all([primaryHealth(cluster, oldPrimary), observeCluster(cluster, replicas, { via, positionsOnly: true })]);
  refuseWhileAlive(oldPrimary.name, health, options.force);
  const stopped = await stoppedReplicas(cluster, firstLook);
  const firstRogues = await roguePrimaries(cluster, oldPrimary, firstLook, [...stopped.primaries, ...(await silentPrimaries(cluster, firstLook))], options.to, options.force);
  const compare = (seen: readonly NodeObservation[], rogues: RoguePrimaries): Standing[] =>
    withRoguesFenced(withAdoption(withDiskPositions(standings(cluster.spec, seen), stopped.positions), rogues.adoption), rogues);
  const situation = (seen: readonly NodeObservation[], rogues: RoguePrimaries, now: PrimaryHealth): FailoverSituation => ({
    spec: cluster.spec, oldPrimary: oldPrimary.name, health: now, standings: compare(seen, rogues), running: seen.filter((o) => o.running).map((o) => o.node.name), to: options.to, force: options.force,
  });
  planFailover(situation(firstLook, firstRogues, health)); // refuse before fencing anything
  const startedAt = new Date().toISOString();
  await writeIntent(cluster.layout, { op: 'failover', from: oldPrimary.name, to: options.to ?? null, force: options.force, step: 'started', startedAt });
  options.onEvent({ type: 'step', node: oldPrimary.name, message: 'fencing: stopped if running, marked diverged' });
  const fenced = await fence(cluster, oldPrimary);
  await fenceRogues(cluster, firstRogues, options.onEvent);
  // Candidates are compared once nothing of the old primary, or of a rogue fenced with it, can send
  // them WAL; if the old primary was already gone before the first look and none was, it stands.
  // Fenced nodes show as such (diverged) in the second look.
  const look = health === 'gone' && firstRogues.toFence.length === 0 && firstRogues.followersToFence.length === 0 ? firstLook : await observeCluster(cluster, replicas, { via, positionsOnly: true });
  const rogues = look === firstLook ? firstRogues : await roguePrimaries(cluster, oldPrimary, look, await silentPrimaries(cluster, look), options.to, options.force);
  if (rogues !== firstRogues) await fenceRogues(cluster, rogues, options.onEvent);
  const plan = planFailover(situation(look, rogues, 'gone'));
  const pick = plan.candidate;
  const candidate = nodeNamed(cluster.spec, pick.name)!;
  const record: FailoverRecorder = (step) => writeIntent(cluster.layout, { op: 'failover', from: oldPrimary.name, to: candidate.name, ahead: plan.ahead, force: options.force, step, startedAt });
  await record('fenced');
  if (!pick.running) {
    options.onEvent({ type: 'step', node: candidate.name, message: 'starting it as a standby: it is stopped but holds the most WAL' });
    await followWhileStopped(cluster, candidate, oldPrimary);
    await startServer(instanceOf(cluster, candidate));
  }
  const running = look.filter((o) => o.running).map((o) => o.node.name);
  return { oldPrimary, candidate, plan, running, fenced, adoption: rogues.adoption, record };
}

/**
 * Promotes the candidate with the followers attached to it first. If the promotion fails, says
 * which followers were already pointed at the candidate before rethrowing: they cascade from it,
 * and a second `pgrepl failover` picks it again if it is still the most advanced.
 */
async function promoteWithFollowers(next: Cluster, candidate: NodeSpec, followers: readonly NodeSpec[], via: Connector, onEvent: OnEvent, adopt: boolean): Promise<Attachment> {
  const attach = attachFollowers(next, candidate, followers, via, onEvent);
  try {
    await promote(next, candidate, { via, whileReloading: attach.makeSlots, adopt });
    return attach;
  } catch (error) {
    attach.abandon();
    for (const name of await attachedNames(followers, attach.repoints)) {
      onEvent({ type: 'warning', node: name, message: `streams from ${candidate.name}, which was not promoted; run \`pgrepl failover\` again` });
    }
    throw error;
  }
}

async function failoverOver(cluster: Cluster, via: Connector, options: FailoverOptions): Promise<FailoverResult> {
  const started = Date.now();
  const { oldPrimary, candidate, plan, running, fenced, adoption, record } = await fenceAndChoose(cluster, via, options);
  const { candidate: pick, ahead, uncompared } = plan;
  const next = { ...cluster, spec: withNewPrimary(cluster.spec, candidate.name) };
  const decided = Date.now();
  options.onEvent({ type: 'step', node: candidate.name, message: adoption ? describeAdoption(adoption) : `promoting (received up to ${formatLsn(pick.receivedLsn!)})` });
  const followers = plan.followers.map((name) => nodeNamed(cluster.spec, name)!);
  const attach = await promoteWithFollowers(next, candidate, followers, via, options.onEvent, adoption !== null);
  const promotedInMs = Date.now() - decided;
  await record('promoted');
  const saved = await saveSpec(cluster, next.spec);
  await record('spec-saved');
  const attached = await attachedNames(followers, attach.repoints);
  await settleAround(saved, { oldPrimary, candidate, ahead, followers, attached, running }, options.onEvent);
  await removeIntent(saved.layout);
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
