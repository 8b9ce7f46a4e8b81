import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { findBinaries } from '../../src/pg/binaries.js';
import { waitFor } from '../../src/util/wait.js';
import { clusterDir, freePortBlock, pgrepl, pgreplJson, psql, stopNode, waitForPsql } from './fixture.js';
import type { ClusterStatus } from '../../src/cluster/assess.js';

test('a replica whose slot passed the WAL cap is flagged, and up re-clones it', async (t) => {
  const { bindir } = await findBinaries();
  const dir = await clusterDir(t);
  const port = await freePortBlock(2);
  await pgreplJson(['up', '--dir', dir, '--replicas', '1', '--port', String(port)]);
  // The smallest cap, so a little WAL invalidates the slot of a stopped replica.
  const specFile = join(dir, 'pgrepl.yaml');
  await writeFile(specFile, (await readFile(specFile, 'utf8')).replace(/maxSlotWalKeepSizeMb: \d+/, 'maxSlotWalKeepSizeMb: 64').replace(/walKeepSizeMb: \d+/, 'walKeepSizeMb: 0'));
  await pgreplJson(['up', '--dir', dir]);
  const primary = (await pgreplJson<{ url: string }>(['url', 'pg1', '--dir', dir])).url;
  assert.equal(await psql(bindir, primary, 'SHOW max_slot_wal_keep_size'), '64MB');

  await stopNode(dir, 'pg2', 'SIGINT');
  await psql(bindir, primary, 'CREATE TABLE churn (id int, pad text)');
  await waitFor(
    async () => {
      await psql(bindir, primary, "INSERT INTO churn SELECT g, repeat('x', 200) FROM generate_series(1, 50000) g; SELECT pg_switch_wal(); CHECKPOINT");
      const slot = (await pgreplJson<ClusterStatus>(['status', '--dir', dir])).nodes[0]!.slots.find((s) => s.name === 'pg2');
      return slot?.walStatus === 'lost' ? true : undefined;
    },
    { what: 'the slot of the stopped replica to be invalidated', timeoutMs: 60_000, intervalMs: 0 },
  );
  const status = await pgreplJson<ClusterStatus>(['status', '--dir', dir]);
  assert.ok(status.warnings.some((w) => /slot pg2 on pg1 was invalidated .* must be re-cloned/.test(w)), status.warnings.join('\n'));

  const up = await pgrepl(['up', '--dir', dir, '--json']);
  assert.equal(up.code, 0, up.stderr);
  assert.match(up.stderr, /slot was invalidated .* cloning it again/);
  assert.deepEqual((JSON.parse(up.stdout) as { cloned: string[] }).cloned, ['pg2']);
  const after = await pgreplJson<ClusterStatus>(['status', '--dir', dir]);
  assert.equal(after.nodes[1]!.state, 'streaming');
  assert.deepEqual(after.warnings, []);
  await waitForPsql(bindir, (await pgreplJson<{ url: string }>(['url', 'pg2', '--dir', dir])).url, 'SELECT count(*) > 0 FROM churn', 't', 'rows on the re-cloned replica');
});
