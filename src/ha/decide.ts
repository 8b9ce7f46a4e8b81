import { UNKNOWN_HOLDER } from './dcs/dcs.js';
import type { Action, Decision, LocalPg, PeerView, Snapshot } from './snapshot.js';
import { chooseTakeover } from './takeover.js';

type Running = Extract<LocalPg, { kind: 'running' }>;

/**
 * One HA cycle's decision for one node: a pure function of what the agent saw. The rules, in the
 * order they are tried:
 * 1. Without the DCS, a primary keeps running only while its lease surely holds, then fences
 *    itself; replicas change nothing (they cannot know who leads).
 * 2. Paused: the holder keeps renewing (so nobody takes over), nothing else is done.
 * 3. The lease is ours: renew it and be the primary (promote, start, or restart after a crash).
 * 4. Another holds it: a running primary here fences itself; a replica follows the holder; a
 *    stopped former primary rejoins it.
 * 5. Nobody holds it: a running primary takes it; a replica takes it only when it is the most
 *    advanced eligible node and nobody runs as a primary.
 */
export function decide(s: Snapshot): Decision {
  const decision = decideOnce(s);
  // While a switchover is under way every agent looks often: the write pause lasts until they act.
  return s.request && s.request.refused === null ? { ...decision, soon: true } : decision;
}

function decideOnce(s: Snapshot): Decision {
  if (s.lease.dcs === 'unavailable') return withoutDcs(s, s.lease.myDeadline);
  const { holder, myDeadline } = s.lease;
  if (s.settings.paused) {
    return holder === s.me ? { reason: 'paused: holding the lease, no automatic action', actions: [keepLease(s)] } : { reason: 'paused: no automatic action', actions: [] };
  }
  if (holder === s.me) return asHolder(s);
  if (holder !== null) return underLeader(s, holder);
  if (myDeadline !== null) {
    const primary = s.pg.kind === 'running' && s.pg.role === 'primary';
    // Still within our own deadline (kept by failsafe while the DCS was away, when no agent could
    // take the key either): take it back. Past it, someone may be taking it any moment.
    if (primary && myDeadline - s.now > s.settings.fenceMarginMs) return { reason: 'the lease expired while the DCS was away: taking it back', actions: [{ kind: 'acquire' }] };
    return primary ? { reason: 'lost the lease; fencing before another node is promoted', actions: [{ kind: 'fence' }] } : { reason: 'lost the lease', actions: [] };
  }
  return leaderless(s);
}

function withoutDcs(s: Snapshot, myDeadline: number | null): Decision {
  const primary = s.pg.kind === 'running' && s.pg.role === 'primary';
  if (!primary) return { reason: 'DCS unreachable: no change until it answers', actions: [] };
  if (myDeadline === null) return { reason: 'DCS unreachable and not holding the lease: fencing this primary', actions: [{ kind: 'fence' }] };
  const left = myDeadline - s.now;
  if (left <= s.settings.fenceMarginMs) return { reason: `DCS unreachable: the lease may expire in ${Math.max(0, left)} ms; fencing this primary`, actions: [{ kind: 'fence' }] };
  return { reason: 'DCS unreachable: the primary keeps running while every other agent answers (failsafe)', actions: [{ kind: 'failsafe' }] };
}

/**
 * Keeps the lease the DCS says is ours. Without a deadline of our own, this agent did not take it
 * (it was restarted while its key still names it): it takes it back with an acquire, which adopts
 * the key; a renew would fail every cycle (etcd renews only the lease this client was granted),
 * leaving the node running as holder with no deadline and no watchdog until the key expired.
 */
function keepLease(s: Snapshot): Action {
  return s.lease.myDeadline === null ? { kind: 'acquire' } : { kind: 'renew' };
}

function asHolder(s: Snapshot): Decision {
  const renew = keepLease(s);
  const pg = s.pg;
  if (pg.kind === 'running') {
    const asked = s.request;
    if (pg.role === 'primary' && asked && asked.from === s.me && asked.candidate === null && asked.refused === null) {
      return { reason: `switchover asked for: handing over to ${asked.to ?? 'the most advanced replica'}`, actions: [renew, { kind: 'handover', to: asked.to }] };
    }
    if (pg.role === 'primary') return { reason: `lease held, ${describePrimary(pg)}`, actions: [renew] };
    return { reason: 'lease held while running as a standby: promoting', actions: [renew, { kind: 'promote', from: null }] };
  }
  if (pg.kind === 'unreachable') return { reason: 'lease held; the primary does not answer (busy or starting), waiting', actions: [renew] };
  if (pg.diverged || pg.noData) return { reason: 'lease held but this node must be rejoined first: handing the lease over', actions: [{ kind: 'release' }] };
  if (pg.crashed && s.settings.restartsSoFar >= s.settings.maxRestarts) {
    return { reason: `the primary crashed again after ${s.settings.restartsSoFar} restarts: handing the lease over`, actions: [{ kind: 'fence' }, { kind: 'release' }] };
  }
  if (pg.crashed) {
    const reason = 'the primary crashed: restarting it in place (crash recovery keeps every acknowledged write)';
    // With most of the lease left, restart first: the renewal (an etcd commit) would only delay
    // it, and the lease is renewed every loop wait while the restart runs.
    const leaseLeft = (s.lease.myDeadline ?? s.now) - s.now;
    return { reason, actions: leaseLeft > s.settings.fenceMarginMs * 2 ? [{ kind: 'restart' }] : [renew, { kind: 'restart' }] };
  }
  if (pg.control === 'shut down' || pg.control === 'in production') return { reason: 'lease held: starting the primary', actions: [renew, { kind: 'start', as: 'primary', upstream: null }] };
  return { reason: 'lease held while stopped as a standby: starting it to promote', actions: [renew, { kind: 'start', as: 'standby', upstream: null }] };
}

/**
 * A running replica's part in a switchover away from `leader`. The chosen candidate makes its future
 * replicas' slots while the leader still writes; once it is named, the leader's other replicas
 * repoint to it before its promotion, as cascading standbys that follow the promotion on the
 * connection they hold: a synchronous quorum then acknowledges the new primary's first commit.
 */
function handoverFrom(s: Snapshot, leader: string): Decision | null {
  const asked = s.request;
  const pg = s.pg;
  if (pg.kind !== 'running' || pg.role !== 'replica' || !asked || asked.from !== leader || asked.refused !== null) return null;
  if (asked.candidate === null) {
    if (asked.chosen !== s.me || asked.prepared) return null;
    return { reason: `switchover: preparing to take over from ${leader} (slots for its replicas)`, actions: [{ kind: 'prepare' }] };
  }
  if (asked.candidate === s.me) return null;
  if (pg.upstream === asked.candidate) return { reason: `switchover: streaming from ${asked.candidate} ahead of its promotion`, actions: [] };
  if (pg.upstream !== leader) return null;
  return { reason: `switchover: following ${asked.candidate} ahead of its promotion`, actions: [{ kind: 'follow', leader: asked.candidate }] };
}

function describePrimary(pg: Running): string {
  return `primary on timeline ${pg.timeline}`;
}

function underLeader(s: Snapshot, leader: string): Decision {
  const pg = s.pg;
  if (pg.kind === 'running' && pg.role === 'primary') return { reason: `${leader} holds the lease but this node runs as a primary: fencing it`, actions: [{ kind: 'fence' }] };
  // A damaged leader record names nobody to follow or rejoin: wait until it can no longer be held.
  if (leader === UNKNOWN_HOLDER) return { reason: 'the leader record is unreadable: waiting until it expires', actions: [], soon: true };
  if (pg.kind === 'running') {
    const handover = handoverFrom(s, leader);
    if (handover) return handover;
    if (pg.upstream !== leader) return { reason: `following the new leader ${leader}`, actions: [{ kind: 'follow', leader }] };
    return { reason: pg.streaming ? `streaming from ${leader}` : `replica of ${leader}, not streaming yet`, actions: [] };
  }
  if (pg.kind === 'unreachable') return { reason: `replica of ${leader} not answering; waiting`, actions: [] };
  if (pg.noData) return { reason: `no data to run: waiting for \`pgrepl up\` to clone it from ${leader}`, actions: [] };
  if (pg.handedOverTo === leader && !pg.diverged) return { reason: `switched over: starting as a standby of ${leader}`, actions: [{ kind: 'start', as: 'standby', upstream: leader }] };
  if (pg.diverged || pg.control === 'in production' || pg.control === 'shut down' || pg.control === 'unknown') {
    return { reason: `rejoining ${leader}: this node may hold WAL the leader lacks`, actions: [{ kind: 'rejoin', leader }] };
  }
  return { reason: `starting as a standby of ${leader}`, actions: [{ kind: 'start', as: 'standby', upstream: leader }] };
}

function leaderless(s: Snapshot): Decision {
  const pg = s.pg;
  const livePrimary = s.peers.find((p) => p.reachable && p.running && p.role === 'primary');
  if (pg.kind === 'running' && pg.role === 'primary') {
    return livePrimary
      ? { reason: `the lease is free and ${livePrimary.name} also runs as a primary: fencing this one`, actions: [{ kind: 'fence' }] }
      : { reason: 'the lease is free: taking it, this node runs as the primary', actions: [{ kind: 'acquire' }] };
  }
  if (livePrimary) return { reason: `the lease is free; waiting for ${livePrimary.name}, which runs as a primary, to take it`, actions: [], soon: true };
  if (s.failsafeFrom !== null && s.failsafeFrom !== s.me) return { reason: `the lease is free, but ${s.failsafeFrom} runs as the primary in failsafe mode: not taking over`, actions: [], soon: true };
  const designated = s.request?.candidate ?? null;
  if (designated !== null && designated !== s.me) return handoverFrom(s, s.request!.from) ?? { reason: `switchover: waiting for ${designated} to take the lease`, actions: [], soon: true };
  if (designated === s.me && pg.kind === 'running' && pg.role === 'replica') {
    return { reason: `switchover: taking the lease from ${s.request!.from}, whose shutdown checkpoint this node replayed`, actions: [{ kind: 'acquire' }, { kind: 'promote', from: s.request!.from }] };
  }
  if (pg.kind === 'stopped') return leaderlessStopped(s, pg);
  if (pg.kind === 'unreachable') return { reason: 'the lease is free; this node does not answer, so it does not compete', actions: [], soon: true };
  const alive = lastLeaderAlive(s);
  if (alive) return { reason: `the lease is free, but ${s.specPrimary} ${alive}: not promoting beside it (its agent must take the lease, or be restarted)`, actions: [], soon: true };
  const verdict = chooseTakeover(s, pg);
  if (!verdict.ok) {
    const reason = `the lease is free; not promoting ${s.me}: ${verdict.why}`;
    // The node that will take over is ahead: stream from it now, as a cascading standby that
    // follows its promotion, so a synchronous quorum is there for its first commit.
    if (verdict.ahead === null || pg.upstream === verdict.ahead) return { reason, actions: [], soon: true };
    return { reason: `${reason}; following ${verdict.ahead} ahead of its takeover`, actions: [{ kind: 'follow', leader: verdict.ahead }], soon: true };
  }
  return { reason: `the lease is free: taking over, ${verdict.why}`, actions: [{ kind: 'acquire' }, { kind: 'promote', from: s.specPrimary === s.me ? null : s.specPrimary }] };
}

/**
 * The last leader still works as a primary, though nobody holds the lease (its agent died). Asked
 * over SQL, not read off this node's walreceiver: a frozen primary's connection looks streaming
 * until wal_receiver_timeout, and a frozen primary must be taken over (it fences itself on thaw).
 */
function lastLeaderAlive(s: Snapshot): string | null {
  return s.specPrimary !== s.me && s.lastLeader === 'writable' ? 'still accepts SQL as a writable primary' : null;
}

function leaderlessStopped(s: Snapshot, pg: Extract<LocalPg, { kind: 'stopped' }>): Decision {
  if (pg.diverged || pg.noData) return { reason: 'the lease is free; this node must be rejoined or cloned first', actions: [], soon: true };
  const wasPrimary = pg.control === 'shut down' || pg.control === 'in production';
  if (wasPrimary && s.specPrimary === s.me && !pg.crashed && !newerTimelineSeen(s, pg.timeline)) {
    return { reason: 'the lease is free: taking it and starting this node, the recorded primary', actions: [{ kind: 'acquire' }, { kind: 'start', as: 'primary', upstream: null }] };
  }
  if (wasPrimary) return { reason: 'the lease is free; this stopped former primary waits for a leader to rejoin', actions: [], soon: true };
  return { reason: 'the lease is free: starting as a standby to compare positions', actions: [{ kind: 'start', as: 'standby', upstream: null }], soon: true };
}

/** A peer runs on a newer timeline than this stopped node's: it was promoted after this node stopped. */
function newerTimelineSeen(s: Snapshot, mine: number | null): boolean {
  return mine === null || s.peers.some((p: PeerView) => p.reachable && p.timeline !== null && p.timeline > mine);
}
