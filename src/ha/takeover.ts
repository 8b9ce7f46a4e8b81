import { formatLsn, lsnDistance, type Lsn } from '../pg/lsn.js';
import type { LocalPg, PeerView, Snapshot } from './snapshot.js';

export type Verdict = { readonly ok: true; readonly why: string } | { readonly ok: false; readonly why: string };

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
 * a synchronous quorum it must be a quorum member and enough members must have been compared that
 * one of them holds every acknowledged commit (ANY K of N: N - K + 1 of them).
 */
export function chooseTakeover(s: Snapshot, pg: Running): Verdict {
  if (s.settings.nofailover) return { ok: false, why: 'nofailover is set on it' };
  if (s.settings.delayed) return { ok: false, why: 'it is a delayed replica' };
  if (pg.lsn === null) return { ok: false, why: 'its received WAL position is unknown' };
  const mine = { timeline: pg.timeline, lsn: pg.lsn };
  const rivals = s.peers.filter((p): p is PeerView & { timeline: number; lsn: Lsn } => p.reachable && p.running && p.eligible && p.timeline !== null && p.lsn !== null);
  for (const peer of rivals) {
    const order = compare(peer, mine);
    if (order > 0) {
      const why = peer.timeline > mine.timeline ? `${peer.name} is on a newer timeline (${peer.timeline} > ${mine.timeline})` : `${mb(lsnDistance(peer.lsn, mine.lsn))} behind ${peer.name}`;
      return { ok: false, why };
    }
    if (order === 0 && peer.name < s.me) return { ok: false, why: `${peer.name} has received as much WAL and goes first` };
  }
  const quorum = quorumCheck(s, rivals.map((p) => p.name));
  if (quorum) return { ok: false, why: quorum };
  return { ok: true, why: `${s.me} is the most advanced of ${rivals.length + 1} compared (${formatLsn(pg.lsn)}, timeline ${pg.timeline})` };
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
