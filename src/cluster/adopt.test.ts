import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseLsn } from '../pg/lsn.js';
import { followersOfRogues, withAdoption } from './adopt.js';
import type { NodeObservation } from './observe.js';
import type { Standing } from './candidate.js';

const standing = (name: string, lsn: string, timeline: number, over: Partial<Standing> = {}): Standing => ({
  name, direct: true, running: true, streaming: false, delayed: false, fenced: false, timeline, receivedLsn: parseLsn(lsn), ...over,
});

test('an adopted primary is compared by where it was promoted; replicas already on its timeline follow it, the others are compared', () => {
  const all = [standing('pg2', '0/9000000', 2, { running: false }), standing('pg3', '0/8000000', 2), standing('pg4', '0/5000000', 1), standing('pg5', '0/4000000', 1)];
  const adopted = withAdoption(all, { name: 'pg2', promotedAt: parseLsn('0/4800000') });
  assert.deepEqual(adopted.map((s) => [s.name, s.receivedLsn, s.running]), [
    ['pg2', parseLsn('0/4800000'), true],
    ['pg3', parseLsn('0/4800000'), true], // streams from pg2 on its timeline: not ahead of it
    ['pg4', parseLsn('0/5000000'), true], // received past the promotion on the old timeline: ahead
    ['pg5', parseLsn('0/4000000'), true],
  ]);
  assert.deepEqual(withAdoption(all, null), all);
});

test('standbys on a fenced rogue primary\'s own new timeline are its followers; on the old timeline, or of a rogue that never left it, they are not', () => {
  const obs = (name: string, inRecovery: boolean, timeline: number): NodeObservation => ({
    node: { name, host: '127.0.0.1', port: 5432, upstream: 'pg1' },
    running: true,
    position: { inRecovery, timeline, lsn: null, replayLsn: null, receiverStatus: null, upstreamHost: null, upstreamPort: null },
    senders: [],
    slots: [],
    error: null,
    diverged: false,
  });
  const rogue = obs('pg3', false, 2);
  const look = [obs('pg2', true, 1), rogue, obs('pg4', true, 2), obs('pg5', true, 1)];
  assert.deepEqual(followersOfRogues(look, [rogue], 1), ['pg4']);
  assert.deepEqual(followersOfRogues(look, [obs('pg3', false, 1)], 1), []);
});
