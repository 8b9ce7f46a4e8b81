import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseProgress } from './basebackup.js';

test('parses pg_basebackup -P lines', () => {
  assert.deepEqual(parseProgress('11476/22953 kB (50%), 0/1 tablespace'), { doneKb: 11476, totalKb: 22953, percent: 50 });
  assert.equal(parseProgress('waiting for checkpoint'), undefined);
});
