import { formatLsn } from '../pg/lsn.js';
import type { ClusterSpec } from '../spec/schema.js';
import { replicasOf } from '../spec/topology.js';
import { chooseFailoverCandidate, type Standing } from './candidate.js';
import { PreconditionError } from './errors.js';
import { quorumMembers } from './sync.js';

/**
 * How the old primary stands: `gone` when its postmaster and every process of its server have
 * exited, `dying` while orphaned backends remain, else what a short connect says. `unreachable`
 * (running, not answering) may still be a working primary: busy, out of connections.
 */
export type PrimaryHealth = 'gone' | 'dying' | 'writable' | 'in recovery' | 'unreachable';

/** What a failover decides from: one look at the cluster, and the user's options. */
export interface FailoverSituation {
  readonly spec: ClusterSpec;
  readonly oldPrimary: string;
  readonly health: PrimaryHealth;
  /** Every replica's standing: positions (from disk for stopped ones), fenced, adopted. */
  readonly standings: readonly Standing[];
  /** Replicas whose server runs. */
  readonly running: readonly string[];
  readonly to?: string | undefined;
  readonly force: boolean;
}

/** What to do, and why. Refusals are thrown (PreconditionError, UnknownNodeError) with their reason. */
export interface FailoverPlan {
  readonly reason: string;
  /** Fenced before anything else: stopped if running, marked diverged. */
  readonly fence: string;
  readonly candidate: Standing;
  /** Replicas holding WAL the candidate lacks (only with a forced `to`): fenced after the promotion. */
  readonly ahead: readonly string[];
  /** Replicas repointed to the candidate before its promotion (only under a synchronous quorum). */
  readonly followers: readonly string[];
  /** Synchronous standbys whose position is unknown: an acknowledged commit may be only there. */
  readonly uncompared: readonly string[];
}

/** Refuses to fail over from a primary that may still take writes, unless forced. */
export function refuseWhileAlive(oldPrimary: string, health: PrimaryHealth, force: boolean): void {
  if ((health !== 'writable' && health !== 'unreachable') || force) return;
  const what = health === 'writable' ? 'is running and accepts writes' : 'is running but did not answer within 1 s (it may still be serving writes)';
  throw new PreconditionError(`the primary ${oldPrimary} ${what}`, {
    hint: 'use `pgrepl switchover` for a planned change without lost writes, or pass --force to fence it and fail over anyway',
  });
}

/**
 * The failover plan, a pure function of one look. The candidate is the most advanced unfenced
 * replica (or `to`, refused when behind another unless forced); under a synchronous quorum the
 * running direct replicas known not to be ahead of it follow it before its promotion (so the quorum
 * is there for its first commit; without one, repointing first only competes with the promotion).
 */
export function planFailover(s: FailoverSituation): FailoverPlan {
  refuseWhileAlive(s.oldPrimary, s.health, s.force);
  const candidate = chooseFailoverCandidate(s.standings, s.to, s.force);
  const known = (o: Standing): boolean => o.name !== candidate.name && o.receivedLsn !== null;
  const ahead = s.standings.filter((o) => known(o) && o.receivedLsn! > candidate.receivedLsn!).map((o) => o.name);
  const behind = new Set(s.standings.filter((o) => known(o) && o.receivedLsn! <= candidate.receivedLsn!).map((o) => o.name));
  const followers = s.spec.replication.sync === 0
    ? []
    : replicasOf(s.spec).filter((n) => n.upstream === s.oldPrimary && s.running.includes(n.name) && behind.has(n.name)).map((n) => n.name);
  const uncompared = quorumMembers(s.spec).filter((name) => !s.standings.some((o) => o.name === name && o.receivedLsn !== null));
  const why = s.to === undefined ? 'the most advanced replica' : `named by --to${ahead.length > 0 ? `, forced past ${ahead.join(', ')}` : ''}`;
  return {
    reason: `promote ${candidate.name} (${why}, received up to ${formatLsn(candidate.receivedLsn!)}) after fencing ${s.oldPrimary}`,
    fence: s.oldPrimary,
    candidate,
    ahead,
    followers,
    uncompared,
  };
}
