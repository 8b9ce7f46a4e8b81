import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { findBinaries } from '../../src/pg/binaries.js';
import { waitFor } from '../../src/util/wait.js';
import { clusterDir, freePortBlock, nodePid, pgrepl, pgreplJson, psql, stopNode, superuserPassword, waitForPsql } from './fixture.js';
import { Writer } from './writer.js';
import type { ClusterStatus } from '../../src/cluster/assess.js';

/** A primary with two replicas under an ANY 1 quorum, and an empty `writes` table. */
async function syncClusterWithWrites(t: TestContext): Promise<{ bindir: string; dir: string; port: number }> {
  const { bindir } = await findBinaries();
  const dir = await clusterDir(t);
  const port = await freePortBlock(3);
  await pgreplJson(['up', '--dir', dir, '--replicas', '2', '--sync', '1', '--port', String(port)]);
  await psql(bindir, await url(dir), 'CREATE TABLE writes (id int PRIMARY KEY)');
  return { bindir, dir, port };
}

/** A primary with two asynchronous replicas. */
async function asyncCluster(t: TestContext): Promise<{ bindir: string; dir: string }> {
  const { bindir } = await findBinaries();
  const dir = await clusterDir(t);
  await pgreplJson(['up', '--dir', dir, '--replicas', '2', '--port', String(await freePortBlock(3))]);
  return { bindir, dir };
}

async function url(dir: string, node?: string): Promise<string> {
  return (await pgreplJson<{ url: string }>(['url', ...(node ? [node] : []), '--dir', dir])).url;
}

/** Every acknowledged id is present on `node`. */
async function assertAllAcked(bindir: string, dir: string, node: string, acked: readonly number[]): Promise<void> {
  assert.ok(acked.length > 0, 'the writer got no commit acknowledged at all');
  const present = await psql(bindir, await url(dir, node), `SELECT count(*) FROM writes WHERE id = ANY('{${acked.join(',')}}'::int[])`);
  assert.equal(Number(present), acked.length, `acknowledged writes missing on ${node}`);
}

async function startWriter(dir: string, ports: number[], firstId = 1): Promise<Writer> {
  const writer = new Writer(ports, await superuserPassword(dir), 'writes', 60_000, 200_000, firstId);
  writer.start();
  await waitFor(() => (writer.acked.length >= 50 ? true : undefined), { what: 'the writer to get going', timeoutMs: 10_000 });
  return writer;
}

test('switchover under a running writer loses no acknowledged write, and back again (synchronous quorum)', async (t) => {
  const { bindir, dir, port } = await syncClusterWithWrites(t);
  const ports = [port, port + 1, port + 2];

  for (const [round, [from, to]] of ([['pg1', 'pg2'], ['pg2', 'pg1']] as const).entries()) {
    const writer = await startWriter(dir, ports, round * 1_000_000 + 1);
    let result: { from: string; to: string; writeUnavailableMs: number };
    try {
      result = await pgreplJson(['switchover', '--dir', dir, '--to', to]);
      const afterSwitch = writer.acked.length;
      await waitFor(() => (writer.acked.length >= afterSwitch + 50 ? true : undefined), { what: `writes on ${to}`, timeoutMs: 15_000 });
    } finally {
      await writer.stop();
    }
    assert.equal(result.from, from);
    assert.equal(result.to, to);
    assert.ok(result.writeUnavailableMs >= 0);
    await assertAllAcked(bindir, dir, to, writer.acked);
    const status = await pgreplJson<ClusterStatus>(['status', '--dir', dir]);
    assert.deepEqual(status.nodes.map((n) => [n.name, n.role, n.state, n.upstream]), ports.map((_, i) => {
      const name = `pg${i + 1}`;
      return name === to ? [name, 'primary', 'primary', null] : [name, 'replica', 'streaming', to];
    }));
    assert.deepEqual(status.warnings, []);
    // The old primary streams from the new one and has every acknowledged write too.
    await waitForPsql(bindir, await url(dir, from), `SELECT count(*) >= ${writer.acked.length} FROM writes`, 't', `${from} to catch up`);
  }
});

test('failover after SIGKILL of the primary in synchronous mode: no acknowledged write lost, old primary fenced, rejoin', async (t) => {
  const { bindir, dir, port } = await syncClusterWithWrites(t);
  const before = await pgreplJson<ClusterStatus>(['status', '--dir', dir]);
  assert.deepEqual(before.nodes.slice(1).map((n) => n.syncState), ['quorum', 'quorum']);

  const writer = await startWriter(dir, [port, port + 1, port + 2]);
  let result: { from: string; to: string; walBytesNotOnNewPrimary: number | null; fenced: { node: string } };
  try {
    process.kill(await nodePid(dir, 'pg1'), 'SIGKILL');
    result = await pgreplJson(['failover', '--dir', dir]);
    const afterFailover = writer.acked.length;
    await waitFor(() => (writer.acked.length >= afterFailover + 50 ? true : undefined), { what: 'writes on the new primary', timeoutMs: 15_000 });
  } finally {
    await writer.stop();
  }
  assert.equal(result.from, 'pg1');
  assert.ok(['pg2', 'pg3'].includes(result.to));
  assert.equal(result.fenced.node, 'pg1');
  await assertAllAcked(bindir, dir, result.to, writer.acked);

  // Fenced: not running, and `up` refuses to start it until it is rejoined.
  const fenced = await pgreplJson<ClusterStatus>(['status', '--dir', dir]);
  assert.equal(fenced.nodes[0]!.running, false);
  assert.equal(fenced.nodes[0]!.state, 'diverged');
  // The other replica, repointed before the promotion, streams from the new primary on its new
  // timeline, through a slot that now holds WAL for it, and is a synchronous standby there.
  const newPrimary = fenced.nodes.find((n) => n.name === result.to)!;
  const other = fenced.nodes.find((n) => n.name !== 'pg1' && n.name !== result.to)!;
  assert.deepEqual([other.upstream, other.state, other.syncState, other.timeline], [result.to, 'streaming', 'quorum', newPrimary.timeline]);
  const slot = newPrimary.slots.find((s) => s.name === other.name);
  assert.ok(slot?.active && slot.retainedBytes !== null, `slot ${other.name} on ${result.to} is active and reserves WAL: ${JSON.stringify(slot)}`);
  const up = await pgrepl(['up', '--dir', dir]);
  assert.notEqual(up.code, 0);
  assert.match(up.stderr, /pg1 is a former primary .* will not start it/);
  assert.equal((await pgreplJson<ClusterStatus>(['status', '--dir', dir])).nodes[0]!.running, false);

  const rejoined = await pgreplJson<{ method: string; upstream: string }>(['rejoin', 'pg1', '--dir', dir]);
  assert.equal(rejoined.method, 'rewind');
  assert.equal(rejoined.upstream, result.to);
  const after = await pgreplJson<ClusterStatus>(['status', '--dir', dir]);
  assert.deepEqual(after.nodes.find((n) => n.name === 'pg1')!.state, 'streaming');
  assert.equal(after.nodes.find((n) => n.name === 'pg1')!.upstream, result.to);
  await waitForPsql(bindir, await url(dir, 'pg1'), `SELECT count(*) >= ${writer.acked.length} FROM writes`, 't', 'pg1 to catch up');
  assert.equal((await pgrepl(['up', '--dir', dir])).code, 0);
});

test('cascading and delayed replicas, remove-replica, and refusals that change nothing', async (t) => {
  const { bindir } = await findBinaries();
  const dir = await clusterDir(t);
  const port = await freePortBlock(5);
  await pgreplJson(['up', '--dir', dir, '--replicas', '1', '--port', String(port)]);
  await psql(bindir, await url(dir), 'CREATE TABLE items (id int)');

  await t.test('a cascading replica receives rows through its upstream replica', async () => {
    const added = await pgreplJson<{ node: { name: string; upstream: string } }>(['add-replica', '--from', 'pg2', '--dir', dir]);
    assert.deepEqual([added.node.name, added.node.upstream], ['pg3', 'pg2']);
    await psql(bindir, await url(dir), 'INSERT INTO items VALUES (1)');
    await waitForPsql(bindir, await url(dir, 'pg3'), 'SELECT count(*) FROM items', '1', 'the row on pg3');
    const status = await pgreplJson<ClusterStatus>(['status', '--dir', dir]);
    assert.deepEqual(status.nodes.find((n) => n.name === 'pg2')!.slots.map((s) => s.name), ['pg3']);
    assert.equal(status.nodes.find((n) => n.name === 'pg3')!.state, 'streaming');
  });

  await t.test('a delayed replica shows rows only after its delay', async () => {
    await pgreplJson(['add-replica', '--delay', '3s', '--name', 'late', '--dir', dir]);
    const committedAt = Date.now();
    await psql(bindir, await url(dir), 'INSERT INTO items VALUES (2)');
    const lateUrl = await url(dir, 'late');
    await waitForPsql(bindir, await url(dir, 'pg2'), 'SELECT count(*) FROM items', '2', 'the row on the undelayed replica');
    // It has the WAL (received) but has not applied it yet.
    const lsn = await psql(bindir, await url(dir), 'SELECT pg_current_wal_lsn()');
    await waitForPsql(bindir, lateUrl, `SELECT pg_last_wal_receive_lsn() >= '${lsn}'`, 't', 'late to receive the WAL');
    // Only meaningful while the delay runs; a machine too loaded to get here within it skips this check.
    if (Date.now() - committedAt < 2500) assert.equal(await psql(bindir, lateUrl, 'SELECT count(*) FROM items'), '1');
    await waitForPsql(bindir, lateUrl, 'SELECT count(*) FROM items', '2', 'the row on late after its delay');
    assert.ok(Date.now() - committedAt >= 3000, 'the delayed replica applied the row before its delay');
  });

  await t.test('bad inputs are refused and change nothing', async () => {
    const before = await readFile(join(dir, 'pgrepl.yaml'), 'utf8');
    const cases: Array<[string[], RegExp]> = [
      [['switchover', '--to', 'pg9'], /no replica named 'pg9'/],
      [['switchover', '--to', 'pg3'], /pg3 streams from another replica/],
      [['switchover', '--to', 'late'], /late is a delayed replica/],
      [['set', 'sync', '5'], /cannot wait for 5 synchronous standbys: only 1 replica/],
      [['up', '--sync', '3'], /cannot wait for 3 synchronous standbys/],
      [['failover'], /primary pg1 is running and accepts writes/],
      [['remove-replica', 'pg1'], /pg1 is the primary and cannot be removed/],
      [['remove-replica', 'pg2'], /pg3 stream from pg2/],
      [['add-replica', '--delay', 'soon'], /delay: must be a PostgreSQL duration/],
      [['add-replica', '--from', 'pg3', '--sync'], /--sync needs a replica of the primary/],
      [['rejoin', 'pg1'], /pg1 is the primary; only replicas rejoin/],
    ];
    for (const [args, pattern] of cases) {
      const result = await pgrepl([...args, '--dir', dir]);
      assert.notEqual(result.code, 0, args.join(' '));
      assert.match(result.stderr, pattern, args.join(' '));
    }
    assert.equal(await readFile(join(dir, 'pgrepl.yaml'), 'utf8'), before);
    const status = await pgreplJson<ClusterStatus>(['status', '--dir', dir]);
    assert.ok(status.nodes.every((n) => n.running), 'every node still runs');
    assert.equal(status.nodes[0]!.role, 'primary');
  });

  await t.test('switchover to a lagging replica is refused', async () => {
    const receiver = Number(await psql(bindir, await url(dir, 'pg2'), 'SELECT pid FROM pg_stat_wal_receiver'));
    process.kill(receiver, 'SIGSTOP'); // a walreceiver of a server this test started
    try {
      await psql(bindir, await url(dir), "INSERT INTO items SELECT 0 FROM generate_series(1, 20000)");
      const result = await pgrepl(['switchover', '--to', 'pg2', '--max-lag-bytes', '100000', '--dir', dir]);
      assert.notEqual(result.code, 0);
      assert.match(result.stderr, /pg2 is \d+ bytes behind the primary \(limit 100000\)/);
    } finally {
      process.kill(receiver, 'SIGCONT');
    }
    assert.equal((await pgreplJson<ClusterStatus>(['status', '--dir', dir])).nodes[0]!.role, 'primary');
  });

  await t.test('switchover to a stopped replica is refused', async () => {
    await pgreplJson(['remove-replica', 'late', '--keep-data', '--dir', dir]);
    await stopNode(dir, 'pg3', 'SIGINT');
    const before = await readFile(join(dir, 'pgrepl.yaml'), 'utf8');
    const result = await pgrepl(['switchover', '--to', 'pg3', '--dir', dir]);
    assert.notEqual(result.code, 0);
    assert.match(result.stderr, /pg3 is not running/);
    assert.equal(await readFile(join(dir, 'pgrepl.yaml'), 'utf8'), before);
    await pgreplJson(['up', '--dir', dir]);
  });

  await t.test('remove-replica drops its slot and forgets it', async () => {
    const removed = await pgreplJson<{ reattached: string[] }>(['remove-replica', 'pg2', '--reattach-to', 'pg1', '--dir', dir]);
    assert.deepEqual(removed.reattached, ['pg3']);
    const slots = await psql(bindir, await url(dir), 'SELECT string_agg(slot_name, \',\' ORDER BY slot_name) FROM pg_replication_slots');
    assert.equal(slots, 'pg3');
    const status = await pgreplJson<ClusterStatus>(['status', '--dir', dir]);
    assert.deepEqual(status.nodes.map((n) => [n.name, n.upstream, n.state]), [['pg1', null, 'primary'], ['pg3', 'pg1', 'streaming']]);
    assert.doesNotMatch(await readFile(join(dir, 'pgrepl.yaml'), 'utf8'), /pg2/);
  });
});

test('sync failover with every replica stopped: the one holding the acknowledged commits is found on disk, started and promoted', async (t) => {
  const { bindir, dir } = await syncClusterWithWrites(t);
  await stopNode(dir, 'pg3', 'SIGINT');
  // Acknowledged by pg2 alone: pg3 is down.
  await psql(bindir, await url(dir), 'INSERT INTO writes SELECT generate_series(1, 1000)');
  await stopNode(dir, 'pg2', 'SIGINT');
  await stopNode(dir, 'pg1', 'SIGKILL');
  const result = await pgreplJson<{ to: string; uncomparedQuorumMembers: string[] }>(['failover', '--dir', dir]);
  assert.equal(result.to, 'pg2', 'the stopped replica with the acknowledged commits must win');
  assert.deepEqual(result.uncomparedQuorumMembers, []);
  assert.equal(await psql(bindir, await url(dir, 'pg2'), 'SELECT count(*) FROM writes'), '1000');
  await pgreplJson(['up', '--dir', dir]).catch(() => undefined); // pg1 stays fenced; pg3 comes back
  const status = await pgreplJson<ClusterStatus>(['status', '--dir', dir]);
  assert.deepEqual(status.nodes.map((n) => [n.name, n.state]), [['pg1', 'diverged'], ['pg2', 'primary'], ['pg3', 'streaming']]);
});

test('a replica promoted behind pgrepl\'s back is never doubled: failover refuses until told to adopt it, then makes it the primary', async (t) => {
  const { bindir, dir } = await asyncCluster(t);
  await stopNode(dir, 'pg1', 'SIGKILL');
  await psql(bindir, await url(dir, 'pg3'), 'SELECT pg_promote()');

  const refused = await pgrepl(['failover', '--dir', dir]);
  assert.notEqual(refused.code, 0);
  assert.match(refused.stderr, /pg3 runs or ran as a primary/);
  assert.match(refused.stderr, /pgrepl failover --to pg3/);
  assert.equal(await psql(bindir, await url(dir, 'pg2'), 'SELECT pg_is_in_recovery()'), 't', 'the refusal promoted nothing');

  const adopted = await pgreplJson<{ to: string }>(['failover', '--to', 'pg3', '--dir', dir]);
  assert.equal(adopted.to, 'pg3');
  const status = await pgreplJson<ClusterStatus>(['status', '--dir', dir]);
  assert.deepEqual(status.nodes.map((n) => [n.name, n.upstream, n.state]), [['pg1', 'pg3', 'diverged'], ['pg2', 'pg3', 'streaming'], ['pg3', null, 'primary']]);
});

test('failover --to a replica behind another is refused, and with --force the one ahead is fenced, then rejoins', async (t) => {
  const { bindir, dir } = await asyncCluster(t);
  await stopNode(dir, 'pg3', 'SIGINT');
  await psql(bindir, await url(dir), 'CREATE TABLE late_rows AS SELECT generate_series(1, 1000) AS id');
  await waitForPsql(bindir, await url(dir, 'pg2'), 'SELECT count(*) FROM late_rows', '1000', 'the rows on pg2');
  await stopNode(dir, 'pg1', 'SIGKILL');

  const refused = await pgrepl(['failover', '--to', 'pg3', '--dir', dir]);
  assert.notEqual(refused.code, 0);
  assert.match(refused.stderr, /pg3 has received \d+ bytes less WAL than pg2/);

  const forced = await pgrepl(['failover', '--to', 'pg3', '--force', '--dir', dir]);
  assert.equal(forced.code, 0, forced.stderr);
  assert.match(forced.stderr, /pg2.*holds WAL pg3 lacks; fenced/);
  const status = await pgreplJson<ClusterStatus>(['status', '--dir', dir]);
  assert.deepEqual(status.nodes.map((n) => [n.name, n.state]), [['pg1', 'diverged'], ['pg2', 'diverged'], ['pg3', 'primary']]);

  const rejoined = await pgreplJson<{ method: string; upstream: string }>(['rejoin', 'pg2', '--dir', dir]);
  assert.deepEqual([rejoined.method, rejoined.upstream], ['rewind', 'pg3']);
  assert.equal((await pgreplJson<ClusterStatus>(['status', '--dir', dir])).nodes[1]!.state, 'streaming');

  // A replica that crashed is recovered as a standby before pg_rewind looks at it, and streams again.
  await stopNode(dir, 'pg2', 'SIGKILL');
  const again = await pgreplJson<{ method: string }>(['rejoin', 'pg2', '--dir', dir]);
  assert.equal(again.method, 'rewind');
  assert.equal((await pgreplJson<ClusterStatus>(['status', '--dir', dir])).nodes[1]!.state, 'streaming');
});

test('a delayed replica fenced for holding WAL past the fork is rewound, not taken for a replica that never diverged', async (t) => {
  const { bindir, dir } = await asyncCluster(t);
  await pgreplJson(['remove-replica', 'pg3', '--dir', dir]);
  await pgreplJson(['add-replica', '--delay', '1h', '--name', 'late', '--dir', dir]);
  await stopNode(dir, 'pg2', 'SIGINT');
  // Received by late (not applied: its delay), never by pg2.
  await psql(bindir, await url(dir), 'CREATE TABLE after_pg2 AS SELECT generate_series(1, 1000) AS id');
  const lsn = await psql(bindir, await url(dir), 'SELECT pg_current_wal_lsn()');
  await waitForPsql(bindir, await url(dir, 'late'), `SELECT pg_last_wal_receive_lsn() >= '${lsn}'`, 't', 'late to receive the WAL');
  await stopNode(dir, 'pg1', 'SIGKILL');

  const forced = await pgrepl(['failover', '--to', 'pg2', '--force', '--dir', dir]);
  assert.equal(forced.code, 0, forced.stderr);
  assert.match(forced.stderr, /late.*holds WAL pg2 lacks; fenced/);
  const rejoined = await pgreplJson<{ method: string; upstream: string }>(['rejoin', 'late', '--dir', dir]);
  assert.deepEqual([rejoined.method, rejoined.upstream], ['rewind', 'pg2']);
  const status = await pgreplJson<ClusterStatus>(['status', '--dir', dir]);
  const late = status.nodes.find((n) => n.name === 'late')!;
  assert.deepEqual([late.upstream, late.state, late.timeline], ['pg2', 'streaming', status.nodes.find((n) => n.name === 'pg2')!.timeline]);
  // What only late had received (past the fork) is gone: rewound, not replayed after the rejoin.
  assert.equal(await psql(bindir, await url(dir, 'late'), "SELECT to_regclass('after_pg2') IS NULL"), 't');
});

test('with --force, a replica promoted behind pgrepl\'s back is fenced instead and another promoted; it comes back only as a fresh clone', async (t) => {
  const { bindir, dir } = await asyncCluster(t);
  await stopNode(dir, 'pg1', 'SIGKILL');
  await psql(bindir, await url(dir, 'pg3'), 'SELECT pg_promote()');
  const forced = await pgrepl(['failover', '--force', '--dir', dir]);
  assert.equal(forced.code, 0, forced.stderr);
  assert.match(forced.stderr, /pg3.*ran as a primary outside pgrepl; fenced/);
  const status = await pgreplJson<ClusterStatus>(['status', '--dir', dir]);
  assert.deepEqual(status.nodes.map((n) => [n.name, n.state]), [['pg1', 'diverged'], ['pg2', 'primary'], ['pg3', 'diverged']]);
  // Both took timeline 2 from timeline 1: pg_rewind could not tell the histories apart.
  const rewind = await pgrepl(['rejoin', 'pg3', '--dir', dir]);
  assert.notEqual(rewind.code, 0);
  assert.match(rewind.stderr, /pg3 was fenced for running as a primary outside pgrepl/);
  assert.match(rewind.stderr, /rejoin pg3 --reclone/);
  const recloned = await pgreplJson<{ method: string; upstream: string }>(['rejoin', 'pg3', '--reclone', '--dir', dir]);
  assert.deepEqual([recloned.method, recloned.upstream], ['reclone', 'pg2']);
  assert.equal((await pgreplJson<ClusterStatus>(['status', '--dir', dir])).nodes[2]!.state, 'streaming');
});
