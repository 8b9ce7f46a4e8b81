import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseLsn } from './lsn.js';
import { historyFileName, parseHistory } from './timeline.js';

test('history files: names in hex, entries oldest first, comments and blanks skipped', () => {
  assert.equal(historyFileName(26), '0000001A.history');
  const text = '# comment\n1\t0/4015E48\tno recovery target specified\n\n2\t0/5000A10\tno recovery target specified\n';
  assert.deepEqual(parseHistory(text), [
    { parent: 1, switchPoint: parseLsn('0/4015E48') },
    { parent: 2, switchPoint: parseLsn('0/5000A10') },
  ]);
});
