import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseLsn, type Lsn } from '../pg/lsn.js';
import { walHeld } from './look.js';

const lsn = (text: string | null): Lsn | null => (text === null ? null : parseLsn(text));

// [what, in recovery, lsn (written or received), replayed, held]
const table: Array<[string, boolean, string | null, string | null, string | null]> = [
  ['a primary: its write position', false, '0/5000000', null, '0/5000000'],
  ['a streaming standby: what it received, ahead of its replay', true, '0/5000100', '0/5000000', '0/5000100'],
  // Measured on PostgreSQL 15 (review-ha.md, F1): a standby restarted with its primary gone reports
  // pg_last_wal_receive_lsn() 0/3000000 and pg_last_wal_replay_lsn() 0/3142C10.
  ['F1: a standby restarted without its upstream: what it replayed, past the segment start it reports as received', true, '0/3000000', '0/3142C10', '0/3142C10'],
  ['a standby that has not streamed since it started: what it replayed', true, null, '0/3142C10', '0/3142C10'],
  ['nothing known', true, null, null, null],
];

for (const [what, inRecovery, received, replayed, held] of table) {
  test(`walHeld: ${what}`, () => {
    assert.equal(walHeld({ inRecovery, lsn: lsn(received), replayLsn: lsn(replayed) }), lsn(held));
  });
}
