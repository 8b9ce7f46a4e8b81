import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseLook, parseLsn, type NodeLook } from './look.js';
import { chooseCandidate, nodesToFence, statusRows } from './plan.js';

const standby = (name: string, lsn: string, replay = lsn, receiver: string | null = 'streaming'): NodeLook =>
  ({ name, running: true, inRecovery: true, lsn: parseLsn(lsn), replayLsn: parseLsn(replay), walReceiver: receiver, upstream: 'pg1', timeline: 1 });
const primary = (name: string, lsn = '0/9000000'): NodeLook =>
  ({ name, running: true, inRecovery: false, lsn: parseLsn(lsn), replayLsn: null, walReceiver: null, upstream: null, timeline: 1 });
const down = (name: string): NodeLook => ({ name, running: false, error: 'connection refused' });

test('parseLsn and parseLook read what psql/pg print', () => {
  assert.equal(parseLsn('1/0'), 1n << 32n);
  assert.equal(parseLsn('0/3000148'), 0x3000148n);
  assert.equal(parseLsn(''), 0n);
  const look = parseLook('pg2', 't|0/5000060|0/5000000|streaming|pg1|1');
  assert.deepEqual(look, { name: 'pg2', running: true, inRecovery: true, lsn: 0x5000060n, replayLsn: 0x5000000n, walReceiver: 'streaming', upstream: 'pg1', timeline: 1 });
});

test('fence: the named primary and any other writable node, only if running', () => {
  assert.deepEqual(nodesToFence('pg1', [primary('pg1'), standby('pg2', '0/1'), primary('pg3')]), ['pg1', 'pg3']);
  assert.deepEqual(nodesToFence('pg1', [down('pg1'), standby('pg2', '0/1')]), ['pg1'], 'a named primary that does not answer may still commit on its sessions');
  assert.deepEqual(nodesToFence('pg2', [standby('pg1', '0/1'), standby('pg2', '0/1')]), ['pg2'], 'a named primary not promoted yet is fenced too');
});

for (const [title, fenced, looks, expected] of [
  ['most received WAL wins', [], [standby('pg2', '0/5000000'), standby('pg3', '0/5000100')], 'pg3'],
  ['received beats replayed', [], [standby('pg2', '0/5000200', '0/4000000'), standby('pg3', '0/5000100', '0/5000100')], 'pg2'],
  ['a tie goes to more replay, then the lower name', [], [standby('pg3', '0/5', '0/5'), standby('pg2', '0/5', '0/5'), standby('pg10', '0/5', '0/5')], 'pg2'],
  ['pg10 sorts after pg9', [], [standby('pg10', '0/5'), standby('pg9', '0/5')], 'pg9'],
  ['a fenced node is never chosen', ['pg3'], [standby('pg2', '0/1'), standby('pg3', '0/9')], 'pg2'],
  ['a writable node is never chosen', [], [primary('pg1', '0/FFFFFFFF'), standby('pg2', '0/1')], 'pg2'],
  ['nothing running to promote', [], [down('pg2'), primary('pg1')], undefined],
] as const) {
  test(`candidate: ${title}`, () => {
    const choice = chooseCandidate(fenced, looks);
    assert.equal(choice.ok ? choice.candidate : undefined, expected);
    if (!choice.ok) assert.match(choice.reason, /no standby is running to promote \(not answering: pg2\)/);
    else assert.ok(!choice.others.includes(choice.candidate));
  });
}

test('status says which node is primary now, and names a writable node that is not', () => {
  const rows = statusRows('pg2', [standby('pg1', '0/8000000', '0/8000000', null), primary('pg2'), standby('pg3', '0/9000000'), primary('pg4'), down('pg5')]);
  assert.deepEqual(rows.map((r) => [r.node, r.role, r.lagBytes]), [
    ['pg1', 'standby, not streaming', 0x1000000],
    ['pg2', 'primary', null],
    ['pg3', 'standby', 0],
    ['pg4', 'writable but not the primary', null],
    ['pg5', 'stopped', null],
  ]);
  assert.equal(statusRows('pg1', [standby('pg1', '0/1')])[0]!.role, 'not promoted yet');
});
