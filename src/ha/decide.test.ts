import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseLsn } from '../pg/lsn.js';
import { decide } from './decide.js';
import { UNKNOWN_HOLDER } from './dcs/dcs.js';
import type { Action, HaSettings, LeaseView, LocalPg, PeerView, Snapshot, SwitchoverRequest } from './snapshot.js';

const NOW = 1_000_000;
const settings: HaSettings = { paused: false, nofailover: false, delayed: false, syncK: 0, quorumMembers: ['pg2', 'pg3'], fenceMarginMs: 300, maxRestarts: 1, restartsSoFar: 0 };

const primary = (lsn = '0/5000000', timeline = 1): LocalPg => ({ kind: 'running', role: 'primary', timeline, lsn: parseLsn(lsn), replayLsn: null, streaming: false, upstream: null });
const replica = (lsn: string | null = '0/5000000', upstream: string | null = 'pg1', timeline = 1): LocalPg => ({
  kind: 'running', role: 'replica', timeline, lsn: lsn === null ? null : parseLsn(lsn), replayLsn: null, streaming: upstream !== null, upstream,
});
/** A replica whose primary is gone: its walreceiver no longer streams. */
const lost = (lsn: string | null = '0/5000000', timeline = 1): LocalPg => ({ ...(replica(lsn, 'pg1', timeline) as Extract<LocalPg, { kind: 'running' }>), streaming: false });
const stopped = (over: Partial<Extract<LocalPg, { kind: 'stopped' }>> = {}): LocalPg => ({ kind: 'stopped', control: 'shut down in recovery', timeline: 1, crashed: false, diverged: false, noData: false, handedOverTo: null, ...over });
const peer = (name: string, over: Partial<PeerView> = {}): PeerView => ({ name, reachable: true, running: true, role: 'replica', timeline: 1, lsn: parseLsn('0/5000000'), eligible: true, ...over });
const held = (holder: string | null, myDeadline: number | null = null): LeaseView => ({ dcs: 'ok', holder, myDeadline });

function snap(me: string, pg: LocalPg, lease: LeaseView, peers: PeerView[] = [], over: Partial<HaSettings> = {}, specPrimary = 'pg1', request: SwitchoverRequest | null = null): Snapshot {
  return { me, pg, lease, peers, settings: { ...settings, ...over }, specPrimary, lastLeader: 'unreachable', request, failsafeFrom: null, now: NOW };
}
const asked = (over: Partial<SwitchoverRequest> = {}): SwitchoverRequest => ({ from: 'pg1', to: null, candidate: null, refused: null, chosen: null, prepared: false, ...over });

const kinds = (actions: readonly Action[]): string => actions.map((a) => a.kind).join(',');

// [what, snapshot, actions, reason pattern]
const table: Array<[string, Snapshot, string, RegExp]> = [
  // The holder.
  ['holder primary renews', snap('pg1', primary(), held('pg1', NOW + 2000)), 'renew', /lease held, primary on timeline 1/],
  ['holder standby promotes', snap('pg2', replica(), held('pg2', NOW + 2000)), 'renew,promote', /promoting/],
  ['holder crashed restarts in place at once', snap('pg1', stopped({ control: 'in production', crashed: true }), held('pg1', NOW + 2000)), 'restart', /crashed: restarting it in place/],
  ['holder crashed near its deadline renews first', snap('pg1', stopped({ control: 'in production', crashed: true }), held('pg1', NOW + 500)), 'renew,restart', /crashed: restarting it in place/],
  ['holder crashed again hands over', snap('pg1', stopped({ control: 'in production', crashed: true }), held('pg1', NOW + 2000), [], { restartsSoFar: 1 }), 'fence,release', /handing the lease over/],
  ['holder cleanly stopped starts', snap('pg1', stopped({ control: 'shut down' }), held('pg1', NOW + 2000)), 'renew,start', /starting the primary/],
  ['holder diverged releases', snap('pg1', stopped({ diverged: true, control: 'shut down' }), held('pg1', NOW + 2000)), 'release', /rejoined first/],
  ['holder unreachable keeps renewing', snap('pg1', { kind: 'unreachable', since: NOW - 10 }, held('pg1', NOW + 2000)), 'renew', /does not answer/],
  // Another holds it.
  ['rogue primary fences itself', snap('pg1', primary(), held('pg2')), 'fence', /pg2 holds the lease .* fencing/],
  ['replica follows new leader', snap('pg3', replica('0/5000000', 'pg1'), held('pg2')), 'follow', /following the new leader pg2/],
  ['replica streaming from leader does nothing', snap('pg3', replica('0/5000000', 'pg2'), held('pg2')), '', /streaming from pg2/],
  ['stopped former primary rejoins', snap('pg1', stopped({ control: 'in production' }), held('pg2')), 'rejoin', /rejoining pg2/],
  ['stopped fenced node rejoins', snap('pg1', stopped({ diverged: true }), held('pg2')), 'rejoin', /rejoining pg2/],
  ['stopped standby starts following', snap('pg3', stopped(), held('pg2')), 'start', /starting as a standby of pg2/],
  ['node without data waits for up', snap('pg3', stopped({ noData: true }), held('pg2')), '', /waiting for `pgrepl up`/],
  // Nobody holds it.
  ['running primary takes the free lease', snap('pg1', primary(), held(null)), 'acquire', /taking it/],
  ['running primary beside another primary fences', snap('pg1', primary(), held(null), [peer('pg2', { role: 'primary' })]), 'fence', /pg2 also runs as a primary/],
  ['replica waits for a live primary to take it', snap('pg2', lost(), held(null), [peer('pg1', { role: 'primary' })]), '', /waiting for pg1/],
  ['most advanced replica takes over', snap('pg2', lost('0/6000000'), held(null), [peer('pg3')]), 'acquire,promote', /taking over, pg2 is the most advanced of 2/],
  ['a frozen primary\'s stream does not stop a takeover', snap('pg2', replica('0/6000000', 'pg1'), held(null), [peer('pg3')]), 'acquire,promote', /taking over/],
  ['no takeover while the old primary answers SQL writable', { ...snap('pg2', lost('0/6000000'), held(null), [peer('pg3')]), lastLeader: 'writable' }, '', /pg1 still accepts SQL as a writable primary/],
  ['replica behind another streams from it ahead of its takeover', snap('pg3', lost('0/5000000'), held(null), [peer('pg2', { lsn: parseLsn('0/8000000') })]), 'follow', /not promoting pg3: 48.0 MB behind pg2; following pg2 ahead of its takeover/],
  ['already streaming from the one ahead: nothing more', snap('pg3', replica('0/5000000', 'pg2'), held(null), [peer('pg2', { lsn: parseLsn('0/8000000') })]), '', /not promoting pg3: 48.0 MB behind pg2$/],
  ['the most advanced of several is the one followed', snap('pg4', lost('0/5000000'), held(null), [peer('pg2', { lsn: parseLsn('0/6000000') }), peer('pg3', { lsn: parseLsn('0/8000000') })]), 'follow', /behind pg3; following pg3/],
  ['nofailover follows the one that will take over', snap('pg2', lost(), held(null), [peer('pg3', { lsn: parseLsn('0/8000000') })], { nofailover: true }), 'follow', /nofailover .*following pg3/],
  ['an ineligible peer ahead does not count', snap('pg3', lost('0/5000000'), held(null), [peer('pg2', { lsn: parseLsn('0/8000000'), eligible: false })]), 'acquire,promote', /taking over/],
  ['newer timeline wins', snap('pg3', lost('0/9000000'), held(null), [peer('pg2', { timeline: 2 })]), 'follow', /pg2 is on a newer timeline/],
  ['tie goes to the lower name', snap('pg3', lost(), held(null), [peer('pg2')]), 'follow', /pg2 has received as much WAL and goes first/],
  ['nofailover never promotes', snap('pg2', lost(), held(null), [], { nofailover: true }), '', /nofailover/],
  ['delayed replica never promotes', snap('pg2', lost(), held(null), [], { delayed: true }), '', /delayed/],
  ['sync: needs N-K+1 quorum members compared', snap('pg2', lost(), held(null), [peer('pg3', { reachable: false })], { syncK: 1 }), '', /only 1 of 2 synchronous standbys could be compared/],
  ['sync: ANY 2 of 2 needs only one', snap('pg2', lost(), held(null), [peer('pg3', { reachable: false })], { syncK: 2 }), 'acquire,promote', /taking over/],
  ['sync: a non-member never promotes', snap('pg4', lost('0/9000000'), held(null), [], { syncK: 1 }), '', /not a synchronous standby/],
  ['stopped recorded primary starts', snap('pg1', stopped({ control: 'shut down' }), held(null), [peer('pg2')]), 'acquire,start', /the recorded primary/],
  ['stopped primary with a newer timeline around waits', snap('pg1', stopped({ control: 'shut down' }), held(null), [peer('pg2', { timeline: 2 })]), '', /waits for a leader/],
  ['crashed former primary does not start writable', snap('pg1', stopped({ control: 'in production', crashed: true }), held(null)), '', /waits for a leader/],
  ['stopped standby starts to compare', snap('pg2', stopped(), held(null)), 'start', /compare positions/],
  // Switchover through the agents.
  ['leader asked to switch over hands over', snap('pg1', primary(), held('pg1', NOW + 2000), [], {}, 'pg1', asked({ to: 'pg3' })), 'renew,handover', /handing over to pg3/],
  ['a refused switchover is not retried', snap('pg1', primary(), held('pg1', NOW + 2000), [], {}, 'pg1', asked({ refused: 'no candidate' })), 'renew', /lease held/],
  ['the designated candidate takes the lease', snap('pg3', replica('0/5000000'), held(null), [peer('pg2', { lsn: parseLsn('0/9000000') })], {}, 'pg1', asked({ candidate: 'pg3' })), 'acquire,promote', /switchover: taking the lease from pg1/],
  ['others wait for the designated candidate', snap('pg2', replica('0/9000000', 'pg3'), held(null), [], {}, 'pg1', asked({ candidate: 'pg3' })), '', /streaming from pg3 ahead of its promotion/],
  ['a stopped node waits for the designated candidate', snap('pg2', stopped(), held(null), [], {}, 'pg1', asked({ candidate: 'pg3' })), '', /waiting for pg3/],
  ['the chosen candidate prepares while the leader checkpoints', snap('pg3', replica(), held('pg1'), [], {}, 'pg1', asked({ chosen: 'pg3' })), 'prepare', /preparing to take over from pg1/],
  ['a prepared candidate waits to be named', snap('pg3', replica(), held('pg1'), [], {}, 'pg1', asked({ chosen: 'pg3', prepared: true })), '', /streaming from pg1/],
  ['a replica not chosen does not prepare', snap('pg2', replica(), held('pg1'), [], {}, 'pg1', asked({ chosen: 'pg3' })), '', /streaming from pg1/],
  ['once named, the other replicas repoint to the candidate', snap('pg2', replica(), held('pg1'), [], {}, 'pg1', asked({ chosen: 'pg3', prepared: true, candidate: 'pg3' })), 'follow', /following pg3 ahead of its promotion/],
  ['and keep it while the lease is free', snap('pg2', replica(), held(null), [], {}, 'pg1', asked({ candidate: 'pg3' })), 'follow', /following pg3 ahead/],
  ['a repointed replica does not flip back to the old leader', snap('pg2', replica('0/5000000', 'pg3'), held('pg1'), [], {}, 'pg1', asked({ candidate: 'pg3' })), '', /streaming from pg3 ahead/],
  ['a replica not streaming from the old leader keeps the usual rule', snap('pg4', replica('0/5000000', 'pg2'), held('pg1'), [], {}, 'pg1', asked({ candidate: 'pg3' })), 'follow', /following the new leader pg1/],
  ['after a refusal replicas follow the leader again', snap('pg2', replica('0/5000000', 'pg3'), held('pg1'), [], {}, 'pg1', asked({ candidate: 'pg3', refused: 'no' })), 'follow', /following the new leader pg1/],
  ['the old primary follows without a rewind', snap('pg1', stopped({ control: 'shut down', handedOverTo: 'pg3' }), held('pg3')), 'start', /switched over: starting as a standby of pg3/],
  ['a stopped primary not handed over rejoins', snap('pg1', stopped({ control: 'shut down', handedOverTo: 'pg2' }), held('pg3')), 'rejoin', /rejoining pg3/],
  // Lost lease, DCS down, pause.
  ['lease gone, our deadline near: fence', snap('pg1', primary(), held(null, NOW + 200)), 'fence', /lost the lease/],
  ['lease gone after a failsafe spell: take it back', snap('pg1', primary(), held(null, NOW + 1500)), 'acquire', /taking it back/],
  ['DCS down, lease still valid: failsafe', snap('pg1', primary(), { dcs: 'unavailable', myDeadline: NOW + 1000 }), 'failsafe', /failsafe/],
  ['a replica does not take over from a leader in failsafe', { ...snap('pg2', replica('0/9000000'), held(null)), failsafeFrom: 'pg1' }, '', /pg1 runs as the primary in failsafe mode/],
  ['DCS down, lease about to expire: fence', snap('pg1', primary(), { dcs: 'unavailable', myDeadline: NOW + 200 }), 'fence', /may expire in 200 ms/],
  ['DCS down, never held: fence a primary', snap('pg1', primary(), { dcs: 'unavailable', myDeadline: null }), 'fence', /not holding the lease/],
  ['DCS down, replica: nothing', snap('pg2', replica(), { dcs: 'unavailable', myDeadline: null }), '', /no change/],
  ['paused holder renews only', snap('pg1', stopped({ crashed: true, control: 'in production' }), held('pg1', NOW + 2000), [], { paused: true }), 'renew', /paused/],
  // Review (review-ha.md): situations the table missed.
  ['F2: a restarted agent whose key still names it takes it back (acquire), as renew needs the lease its predecessor held', snap('pg1', primary(), held('pg1', null)), 'acquire', /lease held, primary on timeline 1/],
  ['F2: the same while paused', snap('pg1', primary(), held('pg1', null), [], { paused: true }), 'acquire', /paused/],
  ['F5: sync: a nofailover quorum member is compared like any other', snap('pg2', lost(), held(null), [peer('pg3', { eligible: false })], { syncK: 1 }), 'acquire,promote', /taking over/],
  ['F5: sync: a nofailover quorum member ahead is caught up from, never overtaken', snap('pg2', lost('0/5000000'), held(null), [peer('pg3', { eligible: false, lsn: parseLsn('0/8000000') })], { syncK: 1 }), 'follow', /48.0 MB behind pg3.*following pg3/],
  ['F5: async: an ineligible peer ahead still does not count', snap('pg2', lost('0/5000000'), held(null), [peer('pg3', { eligible: false, lsn: parseLsn('0/8000000') })]), 'acquire,promote', /taking over/],
  ['F8: a replica does not follow an unreadable leader record', snap('pg3', replica('0/5000000', 'pg1'), held(UNKNOWN_HOLDER)), '', /unreadable/],
  ['F8: a stopped node does not rejoin an unreadable leader record', snap('pg1', stopped({ control: 'shut down' }), held(UNKNOWN_HOLDER)), '', /unreadable/],
  ['F8: a primary still fences when the leader record is unreadable', snap('pg1', primary(), held(UNKNOWN_HOLDER)), 'fence', /fencing/],
  ['paused replica never takes over', snap('pg2', lost('0/9000000'), held(null), [], { paused: true }), '', /paused/],
];

for (const [what, snapshot, actions, reason] of table) {
  test(`decide: ${what}`, () => {
    const decision = decide(snapshot);
    assert.equal(kinds(decision.actions), actions, decision.reason);
    assert.match(decision.reason, reason);
  });
}

test('decide: a promotion after a takeover names the recorded primary it replaces', () => {
  const [, promote] = decide(snap('pg2', lost('0/6000000'), held(null))).actions;
  assert.deepEqual(promote, { kind: 'promote', from: 'pg1' });
});
