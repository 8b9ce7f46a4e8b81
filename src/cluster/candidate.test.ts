import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseLsn } from '../pg/lsn.js';
import { chooseFailoverCandidate, chooseSwitchoverCandidate, rankCandidates, withDiskPositions, type Standing } from './candidate.js';

const at = (lsn: string | null, over: Partial<Standing> & { name: string }): Standing => ({
  direct: true, running: true, streaming: true, delayed: false, fenced: false, timeline: 1, receivedLsn: lsn === null ? null : parseLsn(lsn), ...over,
});
const primaryLsn = parseLsn('0/5000000');

test('switchover picks the most advanced streaming, direct, undelayed replica', () => {
  const all = [at('0/4000000', { name: 'pg2' }), at('0/5000000', { name: 'pg3' }), at('0/5000000', { name: 'late', delayed: true }), at('0/5000000', { name: 'pg4', direct: false })];
  assert.equal(chooseSwitchoverCandidate(all, primaryLsn, undefined, 2 ** 30).name, 'pg3');
});

test('switchover refuses each kind of bad candidate with its reason', () => {
  const cases: Array<[Standing, RegExp]> = [
    [at(null, { name: 'pg2', running: false, streaming: false }), /not running/],
    [at('0/5000000', { name: 'pg2', direct: false }), /streams from another replica/],
    [at('0/5000000', { name: 'pg2', delayed: true }), /delayed replica/],
    [at('0/5000000', { name: 'pg2', streaming: false }), /not streaming/],
    [at('0/4000000', { name: 'pg2' }), /16777216 bytes behind the primary \(limit 1000\)/],
  ];
  for (const [standing, reason] of cases) assert.throws(() => chooseSwitchoverCandidate([standing], primaryLsn, 'pg2', 1000), reason);
  assert.throws(() => chooseSwitchoverCandidate([], primaryLsn, 'pg9', 1000), /no replica named 'pg9'/);
  assert.throws(() => chooseSwitchoverCandidate([at('0/5000000', { name: 'pg2', streaming: false })], primaryLsn, undefined, 1000), /no replica is streaming/);
});

test('failover ranks by received WAL, a stopped replica by the WAL on its disk, running first on a tie', () => {
  const look = [at('0/4000000', { name: 'pg2' }), at(null, { name: 'pg3', running: false }), at('0/6000000', { name: 'pg4', running: true })];
  const withDisk = withDiskPositions(look, new Map([['pg3', parseLsn('0/7000000')]]));
  assert.deepEqual(rankCandidates(withDisk).map((s) => s.name), ['pg3', 'pg4', 'pg2']);
  const tie = withDiskPositions([at(null, { name: 'pg2', running: false }), at('0/7000000', { name: 'pg3' })], new Map([['pg2', parseLsn('0/7000000')]]));
  assert.equal(chooseFailoverCandidate(tie, undefined, false).name, 'pg3');
});

test('failover to a replica behind another needs --force', () => {
  const all = [at('0/4000000', { name: 'pg2' }), at('0/5000000', { name: 'pg3' })];
  assert.throws(() => chooseFailoverCandidate(all, 'pg2', false), /pg2 has received 16777216 bytes less WAL than pg3/);
  assert.equal(chooseFailoverCandidate(all, 'pg2', true).name, 'pg2');
  assert.throws(() => chooseFailoverCandidate([at(null, { name: 'pg2', running: false })], undefined, false), /no replica can be promoted/);
});

test('a fenced replica is never a candidate, and naming it says why', () => {
  const all = [at('0/4000000', { name: 'pg2' }), at(null, { name: 'pg3', running: false, fenced: true })];
  assert.equal(chooseFailoverCandidate(all, undefined, false).name, 'pg2');
  assert.throws(() => chooseFailoverCandidate([all[1]!], undefined, true), /no replica can be promoted: pg3 is fenced/);
  assert.throws(() => chooseFailoverCandidate(all, 'pg3', true), /pg3 is fenced/);
  assert.throws(() => chooseFailoverCandidate(all, 'pg3', true), (e: Error & { hint?: string }) => /pgrepl rejoin pg3/.test(e.hint ?? ''));
});
