import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { findBinaries } from '../../src/pg/binaries.js';
import { clusterDir, freePortBlock, nodePid, pgrepl, pgreplJson, psql, stopNode } from './fixture.js';
import type { ClusterStatus } from '../../src/cluster/assess.js';

test('safety: the cluster lock, standby-only restarts, repointing after an interrupted move, destroy keeps what is not pgrepl\'s', async (t) => {
  const { bindir } = await findBinaries();
  const dir = await clusterDir(t);
  const port = await freePortBlock(3);
  await pgreplJson(['up', '--dir', dir, '--replicas', '2', '--port', String(port)]);

  await t.test('a command that changes the cluster waits for no one: it refuses while another holds the lock, and takes over a dead one\'s', async () => {
    const lock = join(dir, '.pgrepl-lock');
    await writeFile(lock, JSON.stringify({ pid: process.pid, command: 'up' })); // this test process is alive
    for (const args of [['up'], ['down'], ['switchover'], ['set', 'sync', '1']]) {
      const result = await pgrepl([...args, '--dir', dir]);
      assert.notEqual(result.code, 0, args.join(' '));
      assert.match(result.stderr, new RegExp(`another pgrepl \\(pid ${process.pid}, \`up\`\\) is changing`), args.join(' '));
    }
    assert.equal((await pgrepl(['status', '--dir', dir])).code, 0, 'read-only commands do not need the lock');
    await writeFile(lock, JSON.stringify({ pid: 2 ** 22 + 12345, command: 'up' })); // no such process
    await pgreplJson(['up', '--dir', dir]);
    await assert.rejects(stat(lock), { code: 'ENOENT' });
  });

  await t.test('a stopped replica that lost its standby.signal is started as a standby, never as a primary', async () => {
    await stopNode(dir, 'pg3', 'SIGINT');
    await rm(join(dir, 'nodes', 'pg3', 'data', 'standby.signal'));
    await pgreplJson(['up', '--dir', dir]);
    const pg3 = (await pgreplJson<ClusterStatus>(['status', '--dir', dir])).nodes[2]!;
    assert.deepEqual([pg3.inRecovery, pg3.state], [true, 'streaming']);
  });

  await t.test('a replica that could not be repointed during a switchover is repointed by the next up', async () => {
    const pg3 = await nodePid(dir, 'pg3');
    process.kill(pg3, 'SIGSTOP'); // a server this test started: it cannot answer during the switchover
    let result;
    try {
      result = await pgrepl(['switchover', '--to', 'pg2', '--dir', dir, '--json']);
    } finally {
      process.kill(pg3, 'SIGCONT');
    }
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stderr, /could not repoint it to pg2/);
    await pgreplJson(['up', '--dir', dir]);
    const status = await pgreplJson<ClusterStatus>(['status', '--dir', dir]);
    assert.deepEqual(status.nodes.map((n) => [n.name, n.role, n.state, n.upstream]), [
      ['pg1', 'replica', 'streaming', 'pg2'], ['pg2', 'primary', 'primary', null], ['pg3', 'replica', 'streaming', 'pg2'],
    ]);
    assert.equal(status.nodes.filter((n) => n.inRecovery === false).length, 1, 'exactly one writable node');
    await psql(bindir, (await pgreplJson<{ url: string }>(['url', '--dir', dir])).url, 'CREATE TABLE after_move (id int)');
  });

  await t.test('down --destroy deletes what pgrepl made and keeps a node directory it did not', async () => {
    const foreign = join(dir, 'nodes', 'old', 'data');
    await mkdir(foreign, { recursive: true });
    await writeFile(join(foreign, 'PG_VERSION'), '15\n');
    const result = await pgreplJson<{ destroyed: boolean; kept: string[] }>(['down', '--destroy', '--dir', dir]);
    assert.deepEqual(result.kept, [join(dir, 'nodes', 'old')]);
    assert.deepEqual(await readdir(join(dir, 'nodes')), ['old']);
    assert.deepEqual(await readdir(foreign), ['PG_VERSION']);
    await assert.rejects(stat(join(dir, 'pgrepl.yaml')), { code: 'ENOENT' });
  });
});
