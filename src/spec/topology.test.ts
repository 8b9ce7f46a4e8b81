import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseSpec } from './file.js';
import { withNewPrimary } from './topology.js';

test('promoting a replica re-parents the old primary and its direct replicas, not cascaded ones', () => {
  const spec = parseSpec(`version: 1
nodes:
  - { name: pg1, port: 5432 }
  - { name: pg2, port: 5433, upstream: pg1 }
  - { name: pg3, port: 5434, upstream: pg1 }
  - { name: pg4, port: 5435, upstream: pg3 }
`);
  const after = withNewPrimary(spec, 'pg2');
  assert.deepEqual(after.nodes.map((n) => [n.name, n.upstream]), [['pg1', 'pg2'], ['pg2', undefined], ['pg3', 'pg2'], ['pg4', 'pg3']]);
  assert.equal('upstream' in after.nodes[1]!, false);
});
