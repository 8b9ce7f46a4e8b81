import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmod, mkdir, mkdtemp, readdir, readFile, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { findBinaries } from '../../src/pg/binaries.js';
import { assertOneLineError, clusterDir, freePortBlock, pgrepl, pgreplJson, psql } from './fixture.js';

async function exists(path: string): Promise<boolean> {
  return stat(path).then(() => true, () => false);
}

test('missing PostgreSQL binaries: says how to install, creates nothing', async (t) => {
  const dir = await clusterDir(t);
  const result = await pgrepl(['up', '--dir', dir, '--bindir', '/nonexistent/bin']);
  assertOneLineError(result, /PostgreSQL server programs .* not found in \/nonexistent\/bin/);
  assert.match(result.stderr, /hint: .*apt-get install postgresql/);
  assert.equal(await exists(dir), false);
});

test('PostgreSQL older than 13 is refused', async (t) => {
  const fake = await mkdtemp(join(tmpdir(), 'pgrepl-oldpg-'));
  t.after(() => rm(fake, { recursive: true, force: true }));
  for (const program of ['initdb', 'postgres', 'pg_basebackup', 'pg_ctl', 'pg_controldata', 'psql']) {
    await writeFile(join(fake, program), '#!/bin/sh\necho "postgres (PostgreSQL) 11.22"\n', { mode: 0o755 });
  }
  const dir = await clusterDir(t);
  const result = await pgrepl(['up', '--dir', dir, '--bindir', fake]);
  assertOneLineError(result, /PostgreSQL 11\.22 .* too old: pgrepl needs 13 or newer/);
  assert.equal(await exists(dir), false);
});

test('a port in use is named, and nothing is created', async (t) => {
  const port = await freePortBlock(2);
  const blocker = createServer().listen(port + 1, '127.0.0.1');
  t.after(() => blocker.close());
  await new Promise((res) => blocker.once('listening', res));
  const dir = await clusterDir(t);
  const result = await pgrepl(['up', '--dir', dir, '--port', String(port)]);
  assertOneLineError(result, new RegExp(`port ${port + 1} is already in use`));
  assert.equal(await exists(dir), false);
});

test('--host: a port in use on that address (free on 127.0.0.1) is named, and nothing is created', async (t) => {
  const port = await freePortBlock(2);
  const blocker = createServer().listen(port + 1, '127.0.0.2');
  t.after(() => blocker.close());
  await new Promise((res) => blocker.once('listening', res));
  const dir = await clusterDir(t);
  const result = await pgrepl(['up', '--dir', dir, '--port', String(port), '--host', '127.0.0.2']);
  assertOneLineError(result, new RegExp(`port ${port + 1} is already in use on 127\\.0\\.0\\.2`));
  assert.equal(await exists(dir), false);
});

test('a directory that is not a pgrepl cluster is left untouched', async (t) => {
  const dir = await clusterDir(t);
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, 'precious.txt'), 'keep me');
  for (const args of [['up'], ['status'], ['down', '--destroy']]) {
    const result = await pgrepl([...args, '--dir', dir]);
    assertOneLineError(result, /is not a pgrepl cluster/);
  }
  assert.deepEqual(await readdir(dir), ['precious.txt']);
  assert.equal(await readFile(join(dir, 'precious.txt'), 'utf8'), 'keep me');
});

test('a malformed pgrepl.yaml names the field and the reason', async (t) => {
  const dir = await clusterDir(t);
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, 'pgrepl.yaml'), 'version: 1\nnodes:\n  - { name: pg1, port: 5432 }\n  - { name: pg2, port: 99999, upstream: pg1 }\n');
  assertOneLineError(await pgrepl(['status', '--dir', dir]), /pgrepl\.yaml: nodes\[1\]\.port: must be 1024-65535/);
  await writeFile(join(dir, 'pgrepl.yaml'), 'version: 1\nnodes:\n  - { name: pg1, port: 5432 }\n  - { name: pg2, port: 5433, upstream: pgx }\n');
  assertOneLineError(await pgrepl(['up', '--dir', dir]), /nodes\[1\]\.upstream: names no node: 'pgx'/);
  await writeFile(join(dir, 'pgrepl.yaml'), 'version: 1\nnodes: [ {');
  assertOneLineError(await pgrepl(['status', '--dir', dir]), /not valid YAML/);
});

test('unknown flags and bad values are usage errors (exit 2)', async () => {
  const unknown = await pgrepl(['up', '--replicass', '2']);
  assert.equal(unknown.code, 2);
  assert.match(unknown.stderr, /unknown option '--replicass'/);
  const bad = await pgrepl(['up', '--replicas', 'two']);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /--replicas <N>.*expected a whole number/);
  const command = await pgrepl(['upp']);
  assert.equal(command.code, 2);
  assert.match(command.stderr, /unknown command 'upp'/);
});

test('the postgres OS user cannot reach DIR: refused before anything is written', { skip: process.geteuid?.() !== 0 && 'needs root' }, async (t) => {
  const closed = await mkdtemp(join(tmpdir(), 'pgrepl-closed-'));
  t.after(() => rm(closed, { recursive: true, force: true }));
  await chmod(closed, 0o700);
  const dir = join(closed, 'cluster');
  const result = await pgrepl(['up', '--dir', dir]);
  assertOneLineError(result, /OS user 'postgres' that runs PostgreSQL cannot reach/);
  assert.deepEqual(await readdir(closed), []);
});

test('errors are JSON with --json', async (t) => {
  const dir = await clusterDir(t);
  const result = await pgrepl(['status', '--dir', dir, '--json']);
  assert.notEqual(result.code, 0);
  const body = JSON.parse(result.stdout) as { error: { type: string; message: string; hint: string } };
  assert.equal(body.error.type, 'NoClusterError');
  assert.match(body.error.hint, /pgrepl up --dir/);
});

test('cluster-level bad input: foreign node data, fewer replicas, unknown node', async (t) => {
  const dir = await clusterDir(t);
  const port = await freePortBlock(3);
  await pgreplJson(['up', '--dir', dir, '--replicas', '0', '--port', String(port)]);

  await t.test('a node data dir with data pgrepl did not create is not touched', async () => {
    const foreign = join(dir, 'nodes', 'pg2', 'data');
    await mkdir(foreign, { recursive: true });
    await writeFile(join(foreign, 'PG_VERSION'), '15\n');
    const result = await pgrepl(['up', '--dir', dir, '--replicas', '1']);
    assertOneLineError(result, /nodes\/pg2\/data holds data that pgrepl did not create/);
    assert.deepEqual(await readdir(foreign), ['PG_VERSION']);
    await rm(join(dir, 'nodes', 'pg2'), { recursive: true });
  });

  await t.test('--replicas below the current count is refused', async () => {
    await pgreplJson(['up', '--dir', dir, '--replicas', '1']);
    const result = await pgrepl(['up', '--dir', dir, '--replicas', '0']);
    assert.equal(result.code, 2);
    assertOneLineError(result, /has 1 replicas; --replicas 0 would remove some/);
  });

  await t.test('an unknown node name lists the real ones', async () => {
    const result = await pgrepl(['url', 'pg9', '--dir', dir]);
    assertOneLineError(result, /no node named 'pg9'/);
    assert.match(result.stderr, /hint: nodes are: pg1, pg2/);
  });

  await t.test('a port taken while the cluster was down is named with its node', async () => {
    await pgreplJson(['down', '--dir', dir]);
    const blocker = createServer().listen(port + 1, '127.0.0.1');
    await new Promise((res) => blocker.once('listening', res));
    try {
      assertOneLineError(await pgrepl(['up', '--dir', dir]), new RegExp(`port ${port + 1} \\(node pg2\\) is already in use`));
    } finally {
      blocker.close();
    }
  });
});

test('odd --dir values: a space works end to end, a control character or a path too long for PostgreSQL is refused with nothing created', async (t) => {
  const { bindir } = await findBinaries();
  const parent = dirname(await clusterDir(t));
  const dir = join(parent, 'my cluster');
  const relativeBindir = relative(process.cwd(), bindir);
  const up = await pgrepl(['up', '--dir', dir, '--replicas', '2', '--port', String(await freePortBlock(3)), '--bindir', relativeBindir]);
  assert.equal(up.code, 0, up.stderr);
  assert.doesNotMatch(up.stderr, /DeprecationWarning/, 'no concurrent queries on one client');
  assert.match(await readFile(join(dir, 'pgrepl.yaml'), 'utf8'), new RegExp(`bindir: ${bindir}\\n`), 'bindir stored absolute');
  const { url } = await pgreplJson<{ url: string }>(['url', '--dir', dir]);
  assert.match(url, /my%20cluster/);
  assert.equal(await psql(bindir, url, 'SELECT 1'), '1');
  const destroyed = await pgreplJson<{ dirRemoved: boolean }>(['down', '--destroy', '--dir', dir]);
  assert.equal(destroyed.dirRemoved, true);
  assert.equal(await exists(dir), false);

  for (const [bad, pattern] of [[join(parent, 'new\nline'), /contains a control character/], [join(parent, 'tab\there'), /contains a control character/], [join(parent, ...Array.from({ length: 4 }, () => 'x'.repeat(220))), /bytes long; PostgreSQL's paths inside it would pass/]] as const) {
    const result = await pgrepl(['up', '--dir', bad]);
    assertOneLineError(result, pattern);
    assert.equal(result.code, 2);
  }
  assert.deepEqual(await readdir(parent), [], 'nothing created');
});

test('a refused up leaves nothing behind: --sync beyond the replicas, a relative --bindir without PostgreSQL', async (t) => {
  const dir = await clusterDir(t);
  const sync = await pgrepl(['up', '--dir', dir, '--replicas', '1', '--sync', '5']);
  assertOneLineError(sync, /--sync: 5 synchronous standbys asked for, but only 1 replicas/);
  assert.equal(sync.code, 2);
  assert.equal(await exists(dir), false);
  const bindir = await pgrepl(['up', '--dir', dir, '--bindir', 'no/such/bin']);
  assertOneLineError(bindir, /not found in no\/such\/bin/);
  assert.equal(await exists(dir), false);
});

test('usage errors with --json are JSON on stdout, exit 2, one format for every error', async () => {
  for (const args of [['up', '--replicass', '2'], ['up', '--replicas', 'two'], ['upp'], ['logs', '--lines']]) {
    const result = await pgrepl([...args, '--json']);
    assert.equal(result.code, 2, args.join(' '));
    const body = JSON.parse(result.stdout) as { error: { type: string; message: string; hint: string } };
    assert.equal(body.error.type, 'UsageError');
    assert.doesNotMatch(body.error.message, /\n|^error:/);
    assert.match(body.error.hint, /--help/);
    assertOneLineError(result, /./);
  }
});

test('a symlink loop as --dir is one line, no stack trace', async (t) => {
  const parent = dirname(await clusterDir(t));
  const loop = join(parent, 'loop');
  await symlink(loop, loop);
  for (const args of [['status'], ['up']]) assertOneLineError(await pgrepl([...args, '--dir', loop]), /ELOOP|symlink/);
});

test('down --destroy in a directory pgrepl did not create deletes what it made and says it kept the directory', async (t) => {
  const dir = await clusterDir(t);
  await mkdir(dir, { recursive: true });
  await pgreplJson(['up', '--dir', dir, '--replicas', '0', '--port', String(await freePortBlock(1))]);
  const result = await pgrepl(['down', '--destroy', '--dir', dir]);
  assert.equal(result.code, 0, result.stderr);
  assert.doesNotMatch(result.stdout, new RegExp(`^deleted ${dir}$`, 'm'));
  assert.match(result.stdout, /kept the directory itself/);
  assert.deepEqual(await readdir(dir), []);
});
