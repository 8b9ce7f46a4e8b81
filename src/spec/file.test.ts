import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseSpec, renderSpec } from './file.js';

const valid = `
version: 1
nodes:
  - { name: pg1, port: 5432 }
  - { name: pg2, port: 5433, upstream: pg1 }
`;

test('fills defaults and round-trips', () => {
  const spec = parseSpec(valid);
  assert.equal(spec.replication.user, 'replicator');
  assert.equal(spec.nodes[0]!.host, '127.0.0.1');
  assert.deepEqual(parseSpec(renderSpec(spec)), spec);
});

test('names the field that is wrong', () => {
  assert.throws(() => parseSpec(valid.replace('5433', '"x"')), /nodes\[1\]\.port: /);
  assert.throws(() => parseSpec(valid.replace('upstream: pg1', 'upstream: pg9')), /nodes\[1\]\.upstream: names no node: 'pg9'/);
  assert.throws(() => parseSpec(valid.replace('upstream: pg1 }', 'upstream: pg1, colour: red }')), /nodes\[1\]: .*colour/);
  assert.throws(() => parseSpec(valid.replace(', upstream: pg1', '')), /exactly one node must have no upstream/);
  assert.throws(() => parseSpec('version: 1\nnodes: [ {'), /not valid YAML/);
  assert.throws(() => parseSpec(valid.replace('version: 1', 'version: 2')), /version: /);
});

test('rejects an upstream loop', () => {
  const loop = `version: 1\nnodes:\n  - { name: pg1, port: 5432 }\n  - { name: pg2, port: 5433, upstream: pg3 }\n  - { name: pg3, port: 5434, upstream: pg2 }\n`;
  assert.throws(() => parseSpec(loop), /loop/);
});
