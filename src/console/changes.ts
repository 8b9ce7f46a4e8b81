import type { ConsoleEvent, ConsoleNode, StatusDocument } from './types.js';

type Draft = Omit<ConsoleEvent, 'at'>;

const primaryOf = (doc: StatusDocument): ConsoleNode | undefined => doc.nodes.find((n) => n.role === 'primary');

/** A change of primary not yet named: the old primary has not settled yet. */
export interface PendingMove {
  readonly from: string;
  readonly to: string;
  readonly since: number;
}

/**
 * How long an old primary may take to follow the new one before the move is called a failover.
 * Generous: on a loaded machine a clean old primary can take tens of seconds to restart as a
 * replica. (A switchover marks the old primary `diverged` while it is stopped, so that state
 * names nothing by itself.)
 */
export const SETTLE_MS = 60_000;

/**
 * Names a change of primary: a switchover when this console is running one, or once the old
 * primary streams from the new one; a failover when it has not followed within SETTLE_MS or left
 * the cluster.
 */
function nameMove(move: PendingMove, after: StatusDocument, at: number, switchingOver: boolean): Draft | null {
  const old = after.nodes.find((n) => n.name === move.from);
  if (switchingOver) return { kind: 'switchover', node: move.to, message: `switchover: ${move.to} is the primary (was ${move.from})` };
  if (old && old.running && old.role === 'replica' && old.state === 'streaming') {
    return { kind: 'switchover', node: move.to, message: `switchover: ${move.to} is the primary, ${move.from} follows it` };
  }
  if (!old || at - move.since >= SETTLE_MS) {
    return { kind: 'failover', node: move.to, message: `failover: ${move.to} is the primary; ${move.from} is ${old ? old.state : 'gone'}` };
  }
  return null;
}

function primaryChange(before: StatusDocument, after: StatusDocument, at: number, pending: PendingMove | null, switchingOver: boolean): { drafts: Draft[]; pending: PendingMove | null } {
  const was = primaryOf(before);
  const now = primaryOf(after);
  const moved = was !== undefined && now !== undefined && was.name !== now.name;
  const move = moved ? { from: pending?.to === was.name ? pending.from : was.name, to: now.name, since: at } : pending;
  if (move === null) return { drafts: [], pending: null };
  const named = nameMove(move, after, at, switchingOver);
  if (named) return { drafts: [named], pending: null };
  // Said at once; whether it was a switchover or a failover follows when the old primary settles.
  const notice: Draft[] = moved ? [{ kind: 'primary', node: move.to, message: `${move.to} is the primary now (was ${move.from})` }] : [];
  return { drafts: notice, pending: move };
}

function nodeChanges(was: ConsoleNode, now: ConsoleNode): Draft[] {
  const node = now.name;
  const out: Draft[] = [];
  if (was.running && !now.running) out.push({ kind: 'node-down', node, message: `${node} is down (${now.state})` });
  else if (!was.running && now.running) out.push({ kind: 'node-up', node, message: `${node} is up (${now.state})` });
  else if (was.state !== now.state) out.push({ kind: 'state', node, message: `${node}: ${was.state} → ${now.state}` });
  if (was.timeline !== null && now.timeline !== null && was.timeline !== now.timeline) {
    out.push({ kind: 'timeline', node, message: `${node} is on timeline ${now.timeline} (was ${was.timeline})` });
  }
  const lostBefore = new Set(was.slots.filter((s) => s.walStatus === 'lost').map((s) => s.name));
  for (const slot of now.slots.filter((s) => s.walStatus === 'lost' && !lostBefore.has(s.name))) {
    out.push({ kind: 'slot-invalidated', node, message: `slot ${slot.name} on ${node} was invalidated (max_slot_wal_keep_size): replica ${slot.name} must be re-cloned` });
  }
  const reason = now.agent?.reason ?? null;
  if (reason !== null && reason !== (was.agent?.reason ?? null)) out.push({ kind: 'agent', node, message: `agent ${node}: ${reason}` });
  if (was.agent && now.agent && was.agent.healthy !== now.agent.healthy) {
    out.push({ kind: 'agent', node, message: `agent ${node} is ${now.agent.healthy ? 'healthy' : 'unhealthy'}` });
  }
  return out;
}

function haChanges(before: StatusDocument, after: StatusDocument): Draft[] {
  const out: Draft[] = [];
  if (after.ha?.error && after.ha.error !== before.ha?.error) out.push({ kind: 'leader', message: `HA: cannot read the DCS ${after.ha.dcs}: ${after.ha.error}` });
  else if (after.leader !== undefined && before.leader !== after.leader) {
    out.push(after.leader === null
      ? { kind: 'leader', message: 'no node holds the leader lease' }
      : { kind: 'leader', node: after.leader, message: `${after.leader} holds the leader lease` });
  }
  if (typeof after.paused === 'boolean' && typeof before.paused === 'boolean' && before.paused !== after.paused) {
    out.push({ kind: 'paused', message: after.paused ? 'automatic failover paused' : 'automatic failover resumed' });
  }
  return out;
}

export interface Changes {
  readonly events: ConsoleEvent[];
  /** Carried to the next call: a change of primary still waiting for its name. */
  readonly pending: PendingMove | null;
}

/**
 * What changed between two samples, as event-log lines. Pure: the caller passes each new sample,
 * the one before, what the previous call left pending, and whether it is running a switchover
 * itself; the first sample yields nothing.
 */
export function changes(before: StatusDocument | null, after: StatusDocument, at: number, pending: PendingMove | null = null, switchingOver = false): Changes {
  if (before === null) return { events: [], pending: null };
  const moved = primaryChange(before, after, at, pending, switchingOver);
  const drafts: Draft[] = [...moved.drafts, ...haChanges(before, after)];
  const previous = new Map(before.nodes.map((n) => [n.name, n]));
  for (const now of after.nodes) {
    const was = previous.get(now.name);
    if (!was) drafts.push({ kind: 'node-added', node: now.name, message: `${now.name} joined the cluster (${now.role}, ${now.state})` });
    else drafts.push(...nodeChanges(was, now));
  }
  const current = new Set(after.nodes.map((n) => n.name));
  for (const gone of before.nodes.filter((n) => !current.has(n.name))) {
    drafts.push({ kind: 'node-removed', node: gone.name, message: `${gone.name} left the cluster` });
  }
  return { events: drafts.map((d) => ({ at, ...d })), pending: moved.pending };
}
