// Review F1 (review-ha.md): the WAL position takeovers compare. A standby restarted while its
// primary is gone reports as received only the start of the segment it asks for, behind what it
// replayed from its own pg_wal; the HA agents must count what it holds.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { openCluster } from '../../src/cluster/open.js';
import { adminTarget, instanceOf } from '../../src/cluster/context.js';
import { nodeNamed } from '../../src/spec/topology.js';
import { serverPosition } from '../../src/pg/queries.js';
import { startServer, stopServer } from '../../src/pg/server.js';
import { withConnection } from '../../src/pg/sql.js';
import { waitFor } from '../../src/util/wait.js';
import { walHeld } from '../../src/ha/look.js';
import { clusterDir, freePortBlock, pgreplJson } from './fixture.js';

test('a standby restarted without its primary: received lags replayed, and walHeld counts the replayed', async (t) => {
  const dir = await clusterDir(t);
  await pgreplJson(['up', '--dir', dir, '--replicas', '1', '--port', String(await freePortBlock(2))]);
  const cluster = await openCluster(dir);
  const [pg1, pg2] = [nodeNamed(cluster.spec, 'pg1')!, nodeNamed(cluster.spec, 'pg2')!];
  // Some WAL past a segment start, received and replayed by the standby.
  const written = await withConnection(adminTarget(cluster, pg1), async (db) => {
    await db.query('CREATE TABLE review_f1 AS SELECT g FROM generate_series(1, 20000) g');
    return (await serverPosition(db)).lsn!;
  });
  await withConnection(adminTarget(cluster, pg2), (db) =>
    waitFor(async () => (((await serverPosition(db)).replayLsn ?? 0n) >= written ? true : undefined), { what: 'pg2 to replay the write', timeoutMs: 20_000 }),
  );
  await stopServer(instanceOf(cluster, pg1), 'immediate');
  await stopServer(instanceOf(cluster, pg2), 'fast');
  await startServer(instanceOf(cluster, pg2));
  const position = await withConnection(adminTarget(cluster, pg2), (db) =>
    waitFor(async () => {
      const p = await serverPosition(db);
      return p.lsn !== null && p.replayLsn !== null ? p : undefined; // the walreceiver asked for WAL
    }, { what: 'pg2 to ask for WAL from its (stopped) primary', timeoutMs: 20_000 }),
  );
  assert.ok(position.replayLsn! >= written, 'pg2 replayed the write from its own pg_wal');
  assert.ok(position.lsn! < written, `received ${position.lsn} reported behind the write ${written}: PostgreSQL restarts it at the segment start`);
  assert.equal(walHeld(position), position.replayLsn);
});
