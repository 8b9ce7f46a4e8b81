import { formatLsn, lsnDistance, type Lsn } from '../pg/lsn.js';
import type { ReplicationSpec } from '../spec/schema.js';
import type { NodeObservation } from './observe.js';

export interface SlotStatus {
  readonly name: string;
  readonly active: boolean;
  readonly walStatus: string | null;
  /** WAL this slot holds back on its node, from its restart_lsn to the node's current position. */
  readonly retainedBytes: number | null;
}

export interface NodeStatus {
  readonly name: string;
  readonly role: 'primary' | 'replica';
  readonly host: string;
  readonly port: number;
  readonly running: boolean;
  readonly upstream: string | null;
  /** primary: `primary`, replica: the walreceiver/walsender state (`streaming`, `catchup`, ...); `stopped`, `unreachable`, `not streaming` otherwise. */
  readonly state: string;
  readonly inRecovery: boolean | null;
  readonly timeline: number | null;
  readonly lsn: string | null;
  readonly replayLsn: string | null;
  readonly lagBytes: number | null;
  readonly replayLagMs: number | null;
  readonly syncState: string | null;
  readonly slots: readonly SlotStatus[];
}

export interface ClusterStatus {
  readonly nodes: readonly NodeStatus[];
  readonly warnings: readonly string[];
}

/** Warn once a slot holds back this share of max_slot_wal_keep_size. */
export const RETAINED_WARN_RATIO = 0.8;

const mb = (bytes: number): string => `${(bytes / 2 ** 20).toFixed(1)} MB`;

function slotStatuses(obs: NodeObservation): SlotStatus[] {
  const current = obs.position?.lsn ?? null;
  return obs.slots.map((s) => ({
    name: s.name,
    active: s.active,
    walStatus: s.walStatus,
    retainedBytes: current !== null && s.restartLsn !== null ? lsnDistance(current, s.restartLsn) : null,
  }));
}

function slotWarnings(obs: NodeObservation, slots: readonly SlotStatus[], known: ReadonlySet<string>, capBytes: number): string[] {
  const warnings: string[] = [];
  for (const slot of slots) {
    const where = `slot ${slot.name} on ${obs.node.name}`;
    if (!known.has(slot.name)) warnings.push(`${where} belongs to no node of the cluster and holds WAL back; drop it with SELECT pg_drop_replication_slot('${slot.name}')`);
    if (slot.walStatus === 'lost') {
      warnings.push(`${where} was invalidated after passing max_slot_wal_keep_size: replica ${slot.name} must be re-cloned`);
      continue;
    }
    if (!slot.active) warnings.push(`${where} is inactive${slot.retainedBytes === null ? '' : ` and retains ${mb(slot.retainedBytes)} of WAL`}`);
    if (slot.retainedBytes !== null && slot.retainedBytes >= RETAINED_WARN_RATIO * capBytes) {
      warnings.push(`${where} retains ${mb(slot.retainedBytes)}, near the ${mb(capBytes)} cap (max_slot_wal_keep_size); past it the replica must be re-cloned`);
    }
  }
  return warnings;
}

function primaryState(obs: NodeObservation): string {
  if (!obs.running) return 'stopped';
  if (!obs.position) return 'unreachable';
  return obs.position.inRecovery ? 'in recovery' : 'primary';
}

function replicaState(obs: NodeObservation, upstream: NodeObservation | undefined): string {
  if (obs.diverged && !obs.running) return 'diverged';
  if (!obs.running) return 'stopped';
  if (!obs.position) return 'unreachable';
  if (!obs.position.inRecovery) return 'promoted';
  // Only the spec's upstream can vouch for the replica: its own walreceiver may be streaming from
  // a server it should no longer follow.
  const sender = upstream?.senders.find((s) => s.applicationName === obs.node.name);
  if (sender) return sender.state;
  return upstream?.position ? 'not streaming' : 'not streaming (upstream down)';
}

/** Bytes behind the primary, or null when not comparable: unknown, another timeline, or ahead of it (diverged). */
function lagBehind(primary: NodeObservation | undefined, obs: NodeObservation, replay: Lsn | null): number | null {
  const primaryLsn = primary?.position && !primary.position.inRecovery ? primary.position.lsn : null;
  if (primaryLsn === null || replay === null || !obs.position) return null;
  if (obs.position.timeline !== primary!.position!.timeline || replay > primaryLsn) return null;
  return lsnDistance(primaryLsn, replay);
}

/**
 * Turns raw observations into the status of each node and the warnings a DBA should see. Pure:
 * lag is measured against the primary's current position; a replica that is caught up reports
 * 0 ms of replay lag, so idle is told apart from broken (null).
 */
export function assess(observations: readonly NodeObservation[], replication: ReplicationSpec): ClusterStatus {
  const byName = new Map(observations.map((o) => [o.node.name, o]));
  const primary = observations.find((o) => o.node.upstream === undefined);
  const known = new Set(observations.map((o) => o.node.name));
  const capBytes = replication.maxSlotWalKeepSizeMb * 2 ** 20;
  const warnings: string[] = [];
  const nodes = observations.map((obs): NodeStatus => {
    const isPrimary = obs.node.upstream === undefined;
    const upstream = obs.node.upstream === undefined ? undefined : byName.get(obs.node.upstream);
    const sender = upstream?.senders.find((s) => s.applicationName === obs.node.name);
    const state = isPrimary ? primaryState(obs) : replicaState(obs, upstream);
    const replay = isPrimary ? null : (obs.position?.replayLsn ?? null);
    const lagBytes = isPrimary ? null : lagBehind(primary, obs, replay);
    const slots = slotStatuses(obs);
    warnings.push(...slotWarnings(obs, slots, known, capBytes));
    if (obs.error) warnings.push(`${obs.node.name} runs but does not answer: ${obs.error}`);
    if (isPrimary && state !== 'primary') warnings.push(`primary ${obs.node.name} is ${state}`);
    if (state === 'diverged') warnings.push(`${obs.node.name} is a fenced former primary: bring it back with \`pgrepl rejoin ${obs.node.name}\``);
    else if (!isPrimary && state !== 'streaming') warnings.push(`replica ${obs.node.name} is not streaming (${state})`);
    if (!isPrimary && obs.position && !obs.position.inRecovery) warnings.push(`${obs.node.name} is not in recovery: it accepts writes beside the primary`);
    return {
      name: obs.node.name,
      role: isPrimary ? 'primary' : 'replica',
      host: obs.node.host,
      port: obs.node.port,
      running: obs.running,
      upstream: obs.node.upstream ?? null,
      state,
      inRecovery: obs.position?.inRecovery ?? null,
      timeline: obs.position?.timeline ?? null,
      lsn: obs.position?.lsn === null || obs.position?.lsn === undefined ? null : formatLsn(obs.position.lsn),
      replayLsn: replay === null ? null : formatLsn(replay),
      lagBytes,
      replayLagMs: lagBytes === 0 ? 0 : (sender?.replayLagMs ?? null),
      syncState: isPrimary ? null : (sender?.syncState ?? null),
      slots,
    };
  });
  return { nodes, warnings };
}
