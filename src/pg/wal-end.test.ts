import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseLsn } from './lsn.js';
import { parseWalTail } from './wal-end.js';

test('the tail of WAL from pg_waldump: the last valid record always, where the next starts when it says', () => {
  assert.deepEqual(parseWalTail('pg_waldump: error: error in WAL record at 0/4015E48: invalid record length at 0/4015E80: wanted 24, got 0'), {
    lastRecord: parseLsn('0/4015E48'),
    end: parseLsn('0/4015E80'),
  });
  assert.deepEqual(parseWalTail('pg_waldump: error: error in WAL record at 0/4FFFF90: invalid magic number 0000 in log segment 000000010000000000000005, offset 0'), {
    lastRecord: parseLsn('0/4FFFF90'),
    end: null,
  });
  assert.equal(parseWalTail('pg_waldump: error: could not find file "000000010000000000000004": No such file or directory'), null);
});
