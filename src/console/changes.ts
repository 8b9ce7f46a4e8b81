import type { ConsoleEvent, ConsoleNode, StatusDocument } from './types.js';

type Draft = Omit<ConsoleEvent, 'at'>;

const primaryOf = (doc: StatusDocument): ConsoleNode | undefined => doc.nodes.find((n) => n.role === 'primary');

/** A new primary after a switchover (the old one follows it) or a failover (the old one is down or fenced). */
function primaryChange(before: StatusDocument, after: StatusDocument): Draft[] {
  const was = primaryOf(before);
  const now = primaryOf(after);
  if (!was || !now || was.name === now.name) return [];
  const old = after.nodes.find((n) => n.name === was.name);
  const followed = old !== undefined && old.running && old.upstream !== null && old.state !== 'diverged';
  return followed
    ? [{ kind: 'switchover', node: now.name, message: `switchover: ${now.name} is the primary, ${was.name} follows it` }]
    : [{ kind: 'failover', node: now.name, message: `failover: ${now.name} is the primary; ${was.name} is ${old ? old.state : 'gone'}` }];
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
  if (after.leader !== undefined && before.leader !== after.leader) {
    out.push(after.leader === null
      ? { kind: 'leader', message: 'no node holds the leader lease' }
      : { kind: 'leader', node: after.leader, message: `${after.leader} holds the leader lease` });
  }
  if (after.paused !== undefined && before.paused !== undefined && before.paused !== after.paused) {
    out.push({ kind: 'paused', message: after.paused ? 'automatic failover paused' : 'automatic failover resumed' });
  }
  return out;
}

/**
 * What changed between two samples, as event-log lines. Pure: the sampler calls it with each new
 * sample and the one before; the first sample (no `before`) yields nothing.
 */
export function changes(before: StatusDocument | null, after: StatusDocument, at: number): ConsoleEvent[] {
  if (before === null) return [];
  const drafts: Draft[] = [...primaryChange(before, after), ...haChanges(before, after)];
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
  return drafts.map((d) => ({ at, ...d }));
}
