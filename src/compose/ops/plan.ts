import type { NodeLook } from './look.js';

type Running = Extract<NodeLook, { running: true }>;

/**
 * Which nodes to fence (stop) before anything is promoted: the named primary whether or not it
 * answered (one that refuses new connections, at max_connections or overloaded, may still commit on
 * the sessions it has), and any other node that answered as writable.
 */
export function nodesToFence(primary: string, looks: readonly NodeLook[]): string[] {
  return [primary, ...looks.filter((l) => l.running && !l.inRecovery && l.name !== primary).map((l) => l.name)];
}

export type FailoverChoice =
  | { readonly ok: true; readonly candidate: string; readonly others: string[]; readonly reason: string }
  | { readonly ok: false; readonly reason: string };

/**
 * The standby to promote: the one that received the most WAL (then replayed the most, then by
 * name), among running standbys that are not being fenced. Pure: looks in, a choice with its reason out.
 */
export function chooseCandidate(fenced: readonly string[], looks: readonly NodeLook[]): FailoverChoice {
  const standbys = looks.filter((l): l is Running => l.running && l.inRecovery && !fenced.includes(l.name));
  if (standbys.length === 0) {
    const down = looks.filter((l) => !l.running).map((l) => l.name);
    return { ok: false, reason: `no standby is running to promote${down.length ? ` (not answering: ${down.join(', ')})` : ''}` };
  }
  const ranked = [...standbys].sort((a, b) =>
    a.lsn !== b.lsn ? (b.lsn > a.lsn ? 1 : -1)
      : (a.replayLsn ?? 0n) !== (b.replayLsn ?? 0n) ? ((b.replayLsn ?? 0n) > (a.replayLsn ?? 0n) ? 1 : -1)
        : a.name.localeCompare(b.name, 'en', { numeric: true }));
  const best = ranked[0]!;
  const reason = ranked.length === 1
    ? `${best.name} is the only running standby`
    : `${best.name} has the most WAL (${formatLsn(best.lsn)}; ${ranked.slice(1).map((l) => `${l.name} ${formatLsn(l.lsn)}`).join(', ')})`;
  return { ok: true, candidate: best.name, others: ranked.slice(1).map((l) => l.name), reason };
}

export function formatLsn(lsn: bigint): string {
  return `${(lsn >> 32n).toString(16).toUpperCase()}/${(lsn & 0xffffffffn).toString(16).toUpperCase()}`;
}

export type NodeRole = 'primary' | 'standby' | 'stopped' | 'not promoted yet' | 'writable but not the primary' | 'standby, not streaming';

/** One line of `pgrepl compose status`: the role a node plays now, as the project names it. */
export interface StatusRow {
  readonly node: string;
  readonly role: NodeRole;
  readonly streaming: boolean;
  readonly upstream: string | null;
  /** Bytes of WAL behind the primary, for a standby when the primary answers. */
  readonly lagBytes: number | null;
}

export function statusRows(primary: string, looks: readonly NodeLook[]): StatusRow[] {
  const head = looks.find((l): l is Running => l.name === primary && l.running && !l.inRecovery);
  return looks.map((l) => {
    if (!l.running) return { node: l.name, role: 'stopped', streaming: false, upstream: null, lagBytes: null };
    const role: NodeRole = l.name === primary
      ? (l.inRecovery ? 'not promoted yet' : 'primary')
      : !l.inRecovery ? 'writable but not the primary'
        : l.walReceiver === 'streaming' ? 'standby' : 'standby, not streaming';
    const lagBytes = head && l.inRecovery ? Number(head.lsn - (l.replayLsn ?? 0n)) : null;
    return { node: l.name, role, streaming: l.walReceiver === 'streaming', upstream: l.upstream, lagBytes };
  });
}
