import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFile, readdir, stat, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { findBinaries } from '../../src/pg/binaries.js';
import { isAlive } from '../../src/pg/postmaster-pid.js';
import { waitFor } from '../../src/util/wait.js';
import { asPostgres, exchangeLoop, exchangeLoops, isRoot, pgreplWithin, plantSwappable, rootOnlyTree, snapshot } from './attacker.js';
import { CLI, clusterDir, freePortBlock, nodePid, pgrepl, pgreplJson, psql, stopNode } from './fixture.js';

/**
 * The postgres OS account attacks root's pgrepl with what it can write: symlinks, FIFOs and
 * directories swapped under root's feet in its data directories and node directories. Root must
 * never change anything outside the cluster, never hang, never delete a running server's data.
 */
const skip = !isRoot && 'needs root: the attacker is the postgres OS account, pgrepl runs as root';
const DEADLINE_MS = 90_000;

async function exists(path: string): Promise<boolean> {
  return stat(path).then(() => true, () => false);
}

/** The racing attacker may make a removal fail: then with one line naming what was left, and no stack. */
function assertDoneOrNamed(result: { code: number; stderr: string }, path: string): void {
  if (result.code === 0) return;
  assert.match(result.stderr, new RegExp(`pgrepl: error: could not remove ${path.replace(/[/.]/g, '\\$&')}`));
  assert.doesNotMatch(result.stderr, /\n\s+at /, 'no stack trace');
}

test('case 1: a directory swapped with a symlink during down --destroy: root deletes nothing outside the cluster', { skip }, async (t) => {
  const dir = await clusterDir(t);
  await pgreplJson(['up', '--dir', dir, '--replicas', '0', '--port', String(await freePortBlock(1))]);
  const outside = join(dirname(dir), 'etc-like');
  await rootOnlyTree(outside, 200);
  const before = await snapshot(outside);
  const data = join(dir, 'nodes', 'pg1', 'data');
  const racer = await exchangeLoops(await plantSwappable(data, outside, 20, 10), 20);
  let result;
  try {
    result = await pgreplWithin(['down', '--destroy', '--dir', dir], DEADLINE_MS);
  } finally {
    await racer.stop();
  }
  assert.equal(result.timedOut, false, 'down --destroy ended');
  assert.deepEqual(await snapshot(outside), before, 'nothing outside the cluster changed');
  assertDoneOrNamed(result, join(dir, 'nodes', 'pg1'));
  if (result.code !== 0) await pgreplJson(['down', '--destroy', '--dir', dir]); // the attacker stopped: it finishes the job
  assert.equal(await exists(dir), false, 'the cluster is gone');
});

test('case 1 (rejoin --reclone, remove-replica): the same removal, the same refusal to follow', { skip }, async (t) => {
  const dir = await clusterDir(t);
  await pgreplJson(['up', '--dir', dir, '--replicas', '2', '--port', String(await freePortBlock(3))]);
  const outside = join(dirname(dir), 'etc-like');
  await rootOnlyTree(outside, 200);
  const before = await snapshot(outside);
  for (const [node, args] of [['pg2', ['rejoin', 'pg2', '--reclone']], ['pg3', ['remove-replica', 'pg3']]] as const) {
    const data = join(dir, 'nodes', node, 'data');
    const racer = await exchangeLoops(await plantSwappable(data, outside, 20, 10), 20);
    let result;
    try {
      result = await pgreplWithin([...args, '--dir', dir], DEADLINE_MS);
    } finally {
      await racer.stop();
    }
    assert.equal(result.timedOut, false, `${args.join(' ')} ended`);
    assert.deepEqual(await snapshot(outside), before, `${args.join(' ')}: nothing outside the cluster changed`);
    // rejoin --reclone empties the data directory, remove-replica the whole node directory.
    assertDoneOrNamed(result, node === 'pg3' ? dirname(data) : data);
    if (result.code !== 0) await pgreplJson([...args, '--dir', dir]); // the attacker stopped: it finishes the job
  }
});

test('case 2: a data directory replaced by a symlink: up refuses it by name and writes nothing through it', { skip }, async (t) => {
  const dir = await clusterDir(t);
  await pgreplJson(['up', '--dir', dir, '--replicas', '1', '--port', String(await freePortBlock(2))]);
  await stopNode(dir, 'pg2', 'SIGINT');
  const outside = join(dirname(dir), 'etc-like');
  await rootOnlyTree(outside, 3);
  const before = await snapshot(outside);
  const data = join(dir, 'nodes', 'pg2', 'data');
  await asPostgres(['sh', '-c', 'mv "$1" "$1.real" && ln -s "$2" "$1"', 'sh', data, outside]);
  const result = await pgreplWithin(['up', '--dir', dir], DEADLINE_MS);
  assert.equal(result.timedOut, false);
  assert.notEqual(result.code, 0);
  assert.match(result.stderr, new RegExp(`pgrepl: error: ${data.replace(/[/.]/g, '\\$&')} is a symlink`));
  assert.doesNotMatch(result.stderr, /\n\s+at /, 'no stack trace');
  assert.deepEqual(await snapshot(outside), before, 'nothing written through the link');

  await t.test('racing: the real directory and a link swapped in a loop while up writes its files', async () => {
    await asPostgres(['sh', '-c', 'rm "$1" && mv "$1.real" "$1" && ln -s "$2" "$1.link"', 'sh', data, outside]);
    const racer = await exchangeLoop([[data, `${data}.link`]], 20);
    try {
      for (let i = 0; i < 3; i++) {
        const run = await pgreplWithin(['up', '--dir', dir], DEADLINE_MS);
        assert.equal(run.timedOut, false);
        assert.doesNotMatch(run.stderr, /\n\s+at /, 'no stack trace');
      }
    } finally {
      await racer.stop();
    }
    assert.deepEqual(await snapshot(outside), before, 'nothing written outside the cluster');
  });
});

test('case 3: a symlink or a FIFO planted as a node log: logs and up refuse it by name, never read through it, never hang', { skip }, async (t) => {
  const dir = await clusterDir(t);
  await pgreplJson(['up', '--dir', dir, '--replicas', '1', '--port', String(await freePortBlock(2))]);
  const log = join(dir, 'nodes', 'pg2', 'postgres.log');
  const secret = join(dirname(dir), 'root-only');
  await writeFile(secret, 'TOPSECRET\n', { mode: 0o600 });
  await asPostgres(['sh', '-c', 'rm -f "$1" && ln -s "$2" "$1"', 'sh', log, secret]);
  for (const args of [['logs'], ['logs', 'pg2'], ['logs', '--json']]) {
    const result = await pgreplWithin([...args, '--dir', dir], 20_000);
    assert.equal(result.timedOut, false);
    assert.doesNotMatch(result.stdout + result.stderr, /TOPSECRET/, `${args.join(' ')} printed a root-only file`);
    assert.match(result.stdout + result.stderr, new RegExp(`${log.replace(/[/.]/g, '\\$&')} is a symlink`));
  }

  await asPostgres(['sh', '-c', 'rm -f "$1" && mkfifo "$1"', 'sh', log]);
  const logs = await pgreplWithin(['logs', '--dir', dir], 20_000);
  assert.equal(logs.timedOut, false, 'logs returned');
  assert.match(logs.stdout + logs.stderr, new RegExp(`${log.replace(/[/.]/g, '\\$&')} is a FIFO`));

  await stopNode(dir, 'pg2', 'SIGINT');
  const up = await pgreplWithin(['up', '--dir', dir], 30_000);
  assert.equal(up.timedOut, false, 'up did not block on the FIFO');
  assert.notEqual(up.code, 0);
  assert.match(up.stderr, new RegExp(`pgrepl: error: ${log.replace(/[/.]/g, '\\$&')} is a FIFO`));
  assert.equal(await exists(join(dir, '.pgrepl-lock')), false, 'the cluster lock was released');
  await asPostgres(['rm', '-f', log]);
  await pgreplJson(['up', '--dir', dir]);
});

test('case 4: build state left by a crash never deletes a running standby: it is adopted, not cloned again', { skip }, async (t) => {
  const { bindir } = await findBinaries();
  const dir = await clusterDir(t);
  await pgreplJson(['up', '--dir', dir, '--replicas', '1', '--port', String(await freePortBlock(2))]);
  const primaryUrl = (await pgreplJson<{ url: string }>(['url', 'pg1', '--dir', dir])).url;
  await psql(bindir, primaryUrl, 'CREATE TABLE kept AS SELECT 42 AS answer');
  const pid = await nodePid(dir, 'pg2');
  // What an up interrupted between "pg2: starting hot standby" and its last write leaves.
  await writeFile(join(dir, 'state', 'pg2.json'), '{"phase":"cloning","from":"pg1"}\n');
  const result = await pgreplWithin(['up', '--dir', dir, '--json'], DEADLINE_MS);
  assert.equal(result.timedOut, false);
  assert.equal(result.code, 0, result.stderr);
  assert.deepEqual((JSON.parse(result.stdout) as { cloned: string[] }).cloned, [], 'not cloned again');
  assert.equal(await nodePid(dir, 'pg2'), pid, 'the same server still runs');
  assert.equal(JSON.parse(await readFile(join(dir, 'state', 'pg2.json'), 'utf8')).phase, 'ready');
  const replicaUrl = (await pgreplJson<{ url: string }>(['url', 'pg2', '--dir', dir])).url;
  assert.equal(await psql(bindir, replicaUrl, 'SELECT answer FROM kept'), '42');
});

for (const signal of ['SIGINT', 'SIGKILL'] as const) {
  test(`case 4: ${signal} to up's process group at "starting hot standby": the next up finishes, down --destroy leaves no server behind`, { skip }, async (t) => {
    const dir = await clusterDir(t);
    await pgreplJson(['up', '--dir', dir, '--replicas', '0', '--port', String(await freePortBlock(2))]);
    const child = spawn(process.execPath, [CLI, 'up', '--dir', dir, '--replicas', '1'], { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    let stderr = '';
    const exited = new Promise<void>((resolve) => child.once('close', () => resolve()));
    child.stderr!.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
      if (/pg2: starting hot standby/.test(stderr)) {
        try {
          process.kill(-child.pid!, signal);
        } catch {
          /* already gone */
        }
      }
    });
    await exited;
    assert.match(stderr, /pg2: starting hot standby/);
    if (signal === 'SIGINT') assert.match(stderr, /interrupted by SIGINT/);
    // Where the signal landed: after the standby's postmaster started (the case), or before.
    const standbyPid = await waitFor(async () => {
      const pid = await nodePid(dir, 'pg2').catch(() => undefined);
      return pid !== undefined && isAlive(pid) ? pid : undefined;
    }, { what: 'pg2 to run', timeoutMs: 5_000 }).catch(() => null);
    const again = await pgreplWithin(['up', '--dir', dir, '--json'], DEADLINE_MS);
    assert.equal(again.timedOut, false);
    assert.equal(again.code, 0, again.stderr);
    const pg2 = await nodePid(dir, 'pg2');
    if (standbyPid !== null) {
      assert.deepEqual((JSON.parse(again.stdout) as { cloned: string[] }).cloned, [], 'the running standby was not cloned again');
      assert.equal(pg2, standbyPid, 'the standby that ran was kept');
    }
    const down = await pgreplJson<{ kept: string[] }>(['down', '--destroy', '--dir', dir]);
    assert.deepEqual(down.kept, []);
    assert.equal(isAlive(pg2), false, 'no postmaster outlived down --destroy');
    assert.deepEqual(await readdir(dirname(dir)), [], 'everything is gone');
  });
}

test('case 5: spec fields that would reach pg_hba.conf are refused by name; nothing is written', async (t) => {
  const dir = await clusterDir(t);
  await pgreplJson(['up', '--dir', dir, '--replicas', '1', '--port', String(await freePortBlock(2))]);
  const specFile = join(dir, 'pgrepl.yaml');
  const spec = await readFile(specFile, 'utf8');
  const hba = join(dir, 'nodes', 'pg1', 'data', 'pg_hba.conf');
  const before = await readFile(hba, 'utf8');
  for (const host of ['"127.0.0.1/32 scram-sha-256\\nhost all all 0.0.0.0/0 trust #"', '0.0.0.0/0', '"127.0.0.1 trust"']) {
    await writeFile(specFile, spec.replace(/host: 127\.0\.0\.1\n(\s+port: \d+\n\s+upstream)/, `host: ${host}\n$1`));
    const result = await pgrepl(['up', '--dir', dir]);
    assert.notEqual(result.code, 0, host);
    assert.match(result.stderr, /pgrepl: error: .*pgrepl\.yaml: nodes\[1\]\.host: must be an IP address or a DNS host name/, host);
    assert.equal(await readFile(hba, 'utf8'), before, `${host}: pg_hba.conf unchanged`);
  }
  assert.doesNotMatch(await readFile(hba, 'utf8'), /trust|0\.0\.0\.0\/0/);
  await writeFile(specFile, spec);
});
