import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatLsn, lsnDistance, parseLsn } from './lsn.js';

test('parses and formats WAL positions as numbers', () => {
  const lsn = parseLsn('16/B374D848');
  assert.equal(lsn, (0x16n << 32n) | 0xb374d848n);
  assert.equal(formatLsn(lsn), '16/B374D848');
  assert.ok(parseLsn('0/3000000') > parseLsn('0/2FFFFFF'));
});

test('distance is bytes and never negative', () => {
  assert.equal(lsnDistance(parseLsn('1/0'), parseLsn('0/FFFFFFFF')), 1);
  assert.equal(lsnDistance(parseLsn('0/10'), parseLsn('0/20')), 0);
});

test('rejects text that is not an LSN', () => {
  assert.throws(() => parseLsn('16-B374'), /not a WAL position/);
});
