import { formatLsn, lsnDistance, type Lsn } from '../pg/lsn.js';
import type { LocalPg, PeerView, Snapshot } from './snapshot.js';

/**
 * Whether this replica may take the free lease, and why. When it may not because a peer is ahead
 * (or as far and first by name), `ahead` names the most advanced such peer: the one that will
 * take over, which this replica can already stream from.
 */
export type Verdict = { readonly ok: true; readonly why: string } | { readonly ok: false; readonly why: string; readonly ahead: string | null };

type Running = Extract<LocalPg, { kind: 'running' }>;

/** Timeline first (a newer one holds the promoted history), then received WAL. */
function compare(a: { timeline: number; lsn: Lsn }, b: { timeline: number; lsn: Lsn }): number {
  if (a.timeline !== b.timeline) return a.timeline - b.timeline;
  return a.lsn === b.lsn ? 0 : a.lsn > b.lsn ? 1 : -1;
}

function mb(bytes: number): string {
  return bytes >= 1024 * 1024 ? `${(bytes / 1024 / 1024).toFixed(1)} MB` : `${bytes} bytes`;
}

/**
 * Whether this replica may take the free lease: it must be eligible, no reachable eligible peer
 * may have received more WAL (on equal WAL the lower name goes first, so two never race), and under
 * a synchronous quorum it must be a quorum member, enough members must have been compared that
 * one of them holds every acknowledged commit (ANY K of N: N - K + 1 of them), and no member that
 * may not be promoted (nofailover) may be ahead of it: it catches up from that one first.
 */
export function chooseTakeover(s: Snapshot, pg: Running): Verdict {
  // Every running replica whose position is known is compared; only eligible ones may go first.
  const known = s.peers.filter((p): p is PeerView & { timeline: number; lsn: Lsn } => p.reachable && p.running && p.role === 'replica' && p.timeline !== null && p.lsn !== null);
  const rivals = known.filter((p) => p.eligible);
  const mine = pg.lsn === null ? null : { timeline: pg.timeline, lsn: pg.lsn };
  const first = mine === null ? null : firstAhead(s.me, mine, rivals);
  const refuse = (why: string, ahead: string | null = first?.name ?? null): Verdict => ({ ok: false, why, ahead });
  if (s.settings.nofailover) return refuse('nofailover is set on it');
  if (s.settings.delayed) return refuse('it is a delayed replica');
  if (mine === null) return refuse('its received WAL position is unknown');
  if (first !== null) {
    if (compare(first, mine) === 0) return refuse(`${first.name} has received as much WAL and goes first`);
    return refuse(first.timeline > mine.timeline ? `${first.name} is on a newer timeline (${first.timeline} > ${mine.timeline})` : `${mb(lsnDistance(first.lsn, mine.lsn))} behind ${first.name}`);
  }
  const quorum = quorumCheck(s, known.map((p) => p.name));
  if (quorum) return refuse(quorum);
  // Under a quorum, a member that may not be promoted (nofailover) may still hold an acknowledged
  // commit this node lacks: it is caught up from, never overtaken.
  const holding = s.settings.syncK === 0 ? undefined : known.find((p) => !p.eligible && s.settings.quorumMembers.includes(p.name) && compare(p, mine) > 0);
  if (holding) {
    const gap = holding.timeline > mine.timeline ? `on an older timeline than ${holding.name}` : `${mb(lsnDistance(holding.lsn, mine.lsn))} behind ${holding.name}`;
    return refuse(`${gap}, a synchronous standby that may not be promoted but may hold acknowledged commits`, holding.name);
  }
  return { ok: true, why: `${s.me} is the most advanced of ${rivals.length + 1} compared (${formatLsn(pg.lsn!)}, timeline ${pg.timeline})` };
}

type Ranked = { readonly name: string; readonly timeline: number; readonly lsn: Lsn };

/** The most advanced rival (on equal WAL the lower name), if it goes before `me`. */
function firstAhead(me: string, mine: { timeline: number; lsn: Lsn }, rivals: readonly Ranked[]): Ranked | null {
  const before = (a: Ranked, b: { timeline: number; lsn: Lsn; name: string }): boolean => compare(a, b) > 0 || (compare(a, b) === 0 && a.name < b.name);
  const best = rivals.reduce<Ranked | null>((a, b) => (a === null || before(b, a) ? b : a), null);
  return best !== null && before(best, { ...mine, name: me }) ? best : null;
}

function quorumCheck(s: Snapshot, comparedPeers: readonly string[]): string | null {
  const { syncK, quorumMembers } = s.settings;
  if (syncK === 0) return null;
  if (!quorumMembers.includes(s.me)) return 'it is not a synchronous standby, and only one may be promoted without losing acknowledged commits';
  const compared = quorumMembers.filter((m) => m === s.me || comparedPeers.includes(m)).length;
  const needed = quorumMembers.length - syncK + 1;
  if (compared >= needed) return null;
  return `only ${compared} of ${quorumMembers.length} synchronous standbys could be compared; an acknowledged commit may be only on the others (needs ${needed})`;
}
