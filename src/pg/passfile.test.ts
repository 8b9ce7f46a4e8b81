import { test } from 'node:test';
import assert from 'node:assert/strict';
import { passwordFor, renderPassfile } from './passfile.js';

test('escapes colons and backslashes and reads them back', () => {
  const text = renderPassfile([{ user: 'replicator', password: 'a:b\\', database: 'replication' }, { user: 'postgres', password: 'x' }]);
  assert.equal(text, '*:*:replication:replicator:a\\:b\\\\\n*:*:*:postgres:x\n');
  assert.equal(passwordFor(text, 'replicator'), 'a:b\\');
  assert.equal(passwordFor(text, 'postgres'), 'x');
  assert.equal(passwordFor(text, 'nobody'), undefined);
});
