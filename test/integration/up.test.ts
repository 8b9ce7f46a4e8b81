import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { findBinaries } from '../../src/pg/binaries.js';
import { clusterDir, freePortBlock, nodePid, pgrepl, pgreplJson, psql, startPgrepl, waitForPsql } from './fixture.js';
import type { ClusterStatus } from '../../src/cluster/assess.js';

async function urlOf(dir: string, node?: string): Promise<string> {
  return (await pgreplJson<{ url: string }>(['url', ...(node ? [node] : []), '--dir', dir])).url;
}

/** Every argv of every process on the machine, read from /proc. */
async function allArgv(): Promise<string[]> {
  const out: string[] = [];
  for (const pid of await readdir('/proc').catch(() => [] as string[])) {
    if (!/^\d+$/.test(pid)) continue;
    const cmdline = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '');
    if (cmdline) out.push(cmdline.split('\0').join(' '));
  }
  return out;
}

test('up builds a primary and two streaming replicas, and manages them over their life', async (t) => {
  const bin = await findBinaries();
  const dir = await clusterDir(t);
  const port = await freePortBlock(4);

  const created = await pgreplJson<{ created: boolean; cloned: string[]; proofs: Array<{ node: string }> }>(['up', '--dir', dir, '--replicas', '2', '--port', String(port)]);
  assert.equal(created.created, true);
  assert.deepEqual(created.cloned.sort(), ['pg2', 'pg3']);
  assert.deepEqual(created.proofs.map((p) => p.node).sort(), ['pg2', 'pg3']);

  await t.test('rows written through `pgrepl url` reach both replicas', async () => {
    await psql(bin.bindir, await urlOf(dir), 'CREATE TABLE items (id int PRIMARY KEY); INSERT INTO items SELECT generate_series(1, 100)');
    for (const node of ['pg2', 'pg3']) {
      await waitForPsql(bin.bindir, await urlOf(dir, node), 'SELECT count(*) FROM items', '100', `rows on ${node}`);
      assert.equal(await psql(bin.bindir, await urlOf(dir, node), 'SELECT pg_is_in_recovery()'), 't');
    }
  });

  await t.test('status --json reports roles, streaming and lag', async () => {
    const status = await pgreplJson<ClusterStatus>(['status', '--dir', dir]);
    assert.deepEqual(status.nodes.map((n) => [n.name, n.role, n.port, n.upstream]), [
      ['pg1', 'primary', port, null], ['pg2', 'replica', port + 1, 'pg1'], ['pg3', 'replica', port + 2, 'pg1'],
    ]);
    for (const replica of status.nodes.slice(1)) {
      assert.equal(replica.state, 'streaming');
      assert.equal(replica.running, true);
      assert.equal(typeof replica.lagBytes, 'number');
    }
    assert.deepEqual(status.nodes[0]!.slots.map((s) => [s.name, s.active]), [['pg2', true], ['pg3', true]]);
    assert.deepEqual(status.warnings, []);
  });

  await t.test('the replication role can replicate and nothing more', async () => {
    const roles = await psql(bin.bindir, await urlOf(dir), "SELECT rolsuper, rolreplication, rolcanlogin, rolcreatedb, rolcreaterole FROM pg_roles WHERE rolname = 'replicator'");
    assert.equal(roles, 'f|t|t|f|f');
    const verifier = await psql(bin.bindir, await urlOf(dir), "SELECT left(rolpassword, 14) FROM pg_authid WHERE rolname = 'replicator'");
    assert.equal(verifier, 'SCRAM-SHA-256$');
    // Its password opens replication connections only, not ordinary sessions.
    const replPass = (await readFile(join(dir, 'secrets', 'replication.pgpass'), 'utf8')).trim().split(':').pop()!;
    const session = await psql(bin.bindir, `postgresql://replicator:${replPass}@127.0.0.1:${port}/postgres`, 'SELECT 1').catch((e: Error) => e.message);
    assert.match(session, /rejects connection|no pg_hba.conf entry|psql failed/);
  });

  await t.test('pg_hba.conf has no trust and no 0.0.0.0/0, and secrets are private', async () => {
    for (const node of ['pg1', 'pg2', 'pg3']) {
      const hba = await readFile(join(dir, 'nodes', node, 'data', 'pg_hba.conf'), 'utf8');
      assert.doesNotMatch(hba, /\btrust\b|0\.0\.0\.0\/0|::\/0|\bmd5\b|\bpassword\b/);
      assert.match(hba, /host replication replicator 127\.0\.0\.1\/32 scram-sha-256/);
    }
    const rules = await psql(bin.bindir, await urlOf(dir), "SELECT string_agg(DISTINCT auth_method, ',') FROM pg_hba_file_rules");
    assert.equal(rules, 'reject,scram-sha-256');
    for (const file of ['superuser.pgpass', 'replication.pgpass']) {
      assert.equal((await stat(join(dir, 'secrets', file))).mode & 0o777, 0o600, file);
    }
    const spec = await readFile(join(dir, 'pgrepl.yaml'), 'utf8');
    const secret = (await readFile(join(dir, 'secrets', 'replication.pgpass'), 'utf8')).trim().split(':').pop()!;
    assert.ok(!spec.includes(secret));
    for (const node of ['pg2', 'pg3']) {
      const auto = await readFile(join(dir, 'nodes', node, 'data', 'postgresql.auto.conf'), 'utf8');
      assert.ok(!auto.includes(secret), `password in ${node}'s postgresql.auto.conf`);
      assert.match(auto, /passfile=/);
    }
  });

  await t.test('a second up leaves a healthy cluster alone', async () => {
    const pidsBefore = await postmasterPids(dir, ['pg1', 'pg2', 'pg3']);
    const again = await pgreplJson<{ created: boolean; cloned: string[] }>(['up', '--dir', dir]);
    assert.equal(again.created, false);
    assert.deepEqual(again.cloned, []);
    assert.deepEqual(await postmasterPids(dir, ['pg1', 'pg2', 'pg3']), pidsBefore);
  });

  await t.test('--replicas 3 adds one replica, and no password shows in any argv while it clones', async () => {
    // Enough data that the clone runs long enough to be seen in /proc.
    await psql(bin.bindir, await urlOf(dir), "CREATE TABLE filler AS SELECT g, repeat('x', 500) AS pad FROM generate_series(1, 100000) g");
    const passwords = await Promise.all(['superuser', 'replication'].map(async (f) => (await readFile(join(dir, 'secrets', `${f}.pgpass`), 'utf8')).trim().split(':').pop()!));
    const child = startPgrepl(['up', '--dir', dir, '--replicas', '3', '--json']);
    let stdout = '';
    child.stdout!.on('data', (c: Buffer) => (stdout += c.toString()));
    const exited = new Promise<number>((res) => child.once('close', (code) => res(code ?? 1)));
    let sawClone = false;
    let running = true;
    void exited.then(() => (running = false));
    for (let scans = 0; running && scans < 20_000; scans++) {
      for (const argv of await allArgv()) {
        if (argv.includes('pg_basebackup')) sawClone = true;
        for (const password of passwords) assert.ok(!argv.includes(password), `password visible in argv: ${argv.slice(0, 80)}`);
      }
    }
    assert.equal(await exited, 0);
    assert.ok(sawClone, 'the scan never saw pg_basebackup running, so it proved nothing');
    assert.deepEqual((JSON.parse(stdout) as { cloned: string[] }).cloned, ['pg4']);
    const status = await pgreplJson<ClusterStatus>(['status', '--dir', dir]);
    assert.deepEqual(status.nodes.map((n) => [n.name, n.state]), [['pg1', 'primary'], ['pg2', 'streaming'], ['pg3', 'streaming'], ['pg4', 'streaming']]);
    assert.equal(status.nodes[3]!.port, port + 3);
  });

  await t.test('down then up keeps the data and replication', async () => {
    const downResult = await pgreplJson<{ stopped: string[] }>(['down', '--dir', dir]);
    assert.deepEqual([...downResult.stopped].sort(), ['pg1', 'pg2', 'pg3', 'pg4']);
    const stopped = await pgreplJson<ClusterStatus>(['status', '--dir', dir]);
    assert.ok(stopped.nodes.every((n) => !n.running && n.state === 'stopped'));
    await pgreplJson(['up', '--dir', dir]);
    await psql(bin.bindir, await urlOf(dir), 'INSERT INTO items VALUES (101)');
    for (const node of ['pg2', 'pg3', 'pg4']) {
      await waitForPsql(bin.bindir, await urlOf(dir, node), 'SELECT count(*) FROM items', '101', `rows on ${node} after restart`);
    }
  });

  await t.test('down --destroy deletes the directory pgrepl created', async () => {
    const result = await pgreplJson<{ destroyed: boolean }>(['down', '--dir', dir, '--destroy']);
    assert.equal(result.destroyed, true);
    await assert.rejects(stat(dir), { code: 'ENOENT' });
    const after = await pgrepl(['status', '--dir', dir]);
    assert.notEqual(after.code, 0);
    assert.match(after.stderr, /no pgrepl cluster at/);
  });
});

function postmasterPids(dir: string, nodes: readonly string[]): Promise<number[]> {
  return Promise.all(nodes.map((n) => nodePid(dir, n)));
}

test('up --host: nodes on other loopback addresses stream, though Linux sends every loopback connection from 127.0.0.1', async (t) => {
  const bin = await findBinaries();
  const dir = await clusterDir(t);
  const port = await freePortBlock(2);
  await pgreplJson(['up', '--dir', dir, '--replicas', '1', '--port', String(port), '--host', '127.0.0.2,127.0.0.3']);
  const status = await pgreplJson<ClusterStatus>(['status', '--dir', dir]);
  assert.deepEqual(status.nodes.map((n) => `${n.name}@${n.host}`), ['pg1@127.0.0.2', 'pg2@127.0.0.3']);
  await psql(bin.bindir, await urlOf(dir, 'pg1'), 'CREATE TABLE across AS SELECT 7 AS seven');
  assert.ok(await waitForPsql(bin.bindir, await urlOf(dir, 'pg2'), 'SELECT seven FROM across', '7', 'the row on pg2'));
});
