import { lsnDistance, type Lsn } from '../pg/lsn.js';
import type { ClusterSpec } from '../spec/schema.js';
import { primaryOf } from '../spec/topology.js';
import { PreconditionError, UnknownNodeError } from './errors.js';
import type { NodeObservation } from './observe.js';

/** A replica's standing as a promotion candidate, read from observations. */
export interface Standing {
  readonly name: string;
  readonly direct: boolean;
  readonly running: boolean;
  readonly streaming: boolean;
  /** Last WAL position received (written to its pg_wal); for a stopped replica, read from its pg_wal on disk. */
  readonly receivedLsn: Lsn | null;
  readonly delayed: boolean;
  /** Fenced by an earlier failover (diverged): never a candidate until it has rejoined. */
  readonly fenced: boolean;
  /** The timeline it reported, if running. */
  readonly timeline: number | null;
}

/** Replaces the standing of stopped replicas whose received WAL could be read from disk. */
export function withDiskPositions(all: readonly Standing[], onDisk: ReadonlyMap<string, Lsn>): Standing[] {
  return all.map((s) => (!s.running && onDisk.has(s.name) ? { ...s, receivedLsn: onDisk.get(s.name)! } : s));
}

export function standings(spec: ClusterSpec, observations: readonly NodeObservation[]): Standing[] {
  const primary = primaryOf(spec).name;
  const primaryObs = observations.find((o) => o.node.name === primary);
  return observations
    .filter((o) => o.node.upstream !== undefined)
    .map((o) => ({
      name: o.node.name,
      direct: o.node.upstream === primary,
      running: o.running && o.position !== null && o.position.inRecovery,
      streaming: primaryObs?.senders.some((s) => s.applicationName === o.node.name && s.state === 'streaming') ?? false,
      receivedLsn: o.position?.lsn ?? null,
      delayed: o.node.delay !== undefined,
      fenced: o.diverged,
      timeline: o.position?.timeline ?? null,
    }));
}

/**
 * Candidates in order of preference: most WAL received, then running (no start needed), then
 * direct replicas, then undelayed. A replica whose position is unknown is no candidate.
 */
export function rankCandidates(candidates: readonly Standing[]): Standing[] {
  return candidates
    .filter((c) => c.receivedLsn !== null && !c.fenced)
    .sort((a, b) => {
      if (a.receivedLsn !== b.receivedLsn) return a.receivedLsn! > b.receivedLsn! ? -1 : 1;
      if (a.running !== b.running) return a.running ? -1 : 1;
      if (a.direct !== b.direct) return a.direct ? -1 : 1;
      if (a.delayed !== b.delayed) return a.delayed ? 1 : -1;
      // Code-unit order, not localeCompare: its first call loads ICU collation (~5 ms of a failover).
      return a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
    });
}

/**
 * The switchover candidate: `to` if given, else the most advanced direct replica. It must stream
 * from the primary, undelayed, within `maxLagBytes` of it. Pure, so every refusal is unit-tested.
 */
export function chooseSwitchoverCandidate(all: readonly Standing[], primaryLsn: Lsn, to: string | undefined, maxLagBytes: number): Standing {
  const pick = to === undefined ? rankCandidates(all.filter((c) => c.direct && c.streaming && !c.delayed))[0] : all.find((c) => c.name === to);
  if (to !== undefined && !pick) throw new UnknownNodeError(`no replica named '${to}'`, { hint: `replicas are: ${all.map((c) => c.name).join(', ')}` });
  if (!pick) throw new PreconditionError('no replica is streaming from the primary, so none can take over without losing writes', { hint: 'check `pgrepl status`; run `pgrepl up` to start replicas' });
  if (!pick.running) throw new PreconditionError(`${pick.name} is not running`, { hint: `start it with \`pgrepl up\`, or choose another with --to` });
  if (!pick.direct) throw new PreconditionError(`${pick.name} streams from another replica, not the primary`, { hint: 'choose a replica of the primary with --to' });
  if (pick.delayed) throw new PreconditionError(`${pick.name} is a delayed replica; promoting it would throw away its delay window`, { hint: 'choose an undelayed replica with --to' });
  if (!pick.streaming) throw new PreconditionError(`${pick.name} is not streaming from the primary`, { hint: 'check `pgrepl status` and `pgrepl logs ' + pick.name + '`' });
  const lag = lsnDistance(primaryLsn, pick.receivedLsn!);
  if (lag > maxLagBytes) {
    throw new PreconditionError(`${pick.name} is ${lag} bytes behind the primary (limit ${maxLagBytes}); a switchover now would wait for it with writes stopped`, {
      hint: 'retry when it has caught up (see `pgrepl status`), or raise --max-lag-bytes',
    });
  }
  return pick;
}

function noCandidate(fenced: readonly string[]): PreconditionError {
  if (fenced.length === 0) return new PreconditionError('no replica can be promoted: none runs, and no stopped one has readable WAL', { hint: 'restore the primary, or a replica' });
  return new PreconditionError(`no replica can be promoted: ${fenced.join(', ')} ${fenced.length > 1 ? 'are' : 'is'} fenced, and no other runs or has readable WAL`, {
    hint: 'restore the primary; or, if a fenced one runs as a primary outside pgrepl, keep its writes with `pgrepl failover --to NAME` (without --force)',
  });
}

/** The replica to promote: `to`, or the most advanced; refuses one that lacks WAL another has, unless forced. */
export function chooseFailoverCandidate(all: readonly Standing[], to: string | undefined, force: boolean): Standing {
  const ranked = rankCandidates(all);
  const best = ranked[0];
  if (!best) throw noCandidate(all.filter((c) => c.fenced).map((c) => c.name));
  if (to === undefined) return best;
  const pick = all.find((c) => c.name === to);
  if (!pick) throw new UnknownNodeError(`no replica named '${to}'`, { hint: `replicas are: ${all.map((c) => c.name).join(', ')}` });
  if (pick.fenced) throw new PreconditionError(`${to} is fenced: its WAL may have forked from the others'`, { hint: `bring it back with \`pgrepl rejoin ${to}\` once another node is the primary; the most advanced now is ${best.name}` });
  if (pick.receivedLsn === null) throw new PreconditionError(`${to} is not running and its WAL position cannot be read`, { hint: `choose another; the most advanced is ${best.name}` });
  const behind = lsnDistance(best.receivedLsn!, pick.receivedLsn);
  if (behind > 0 && !force) {
    throw new PreconditionError(`${to} has received ${behind} bytes less WAL than ${best.name}; promoting it would lose them`, {
      hint: `fail over to ${best.name}, or pass --force to accept the loss`,
    });
  }
  return pick;
}
