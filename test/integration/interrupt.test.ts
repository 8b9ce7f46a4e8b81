import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { findBinaries } from '../../src/pg/binaries.js';
import { waitFor } from '../../src/util/wait.js';
import { clusterDir, freePortBlock, pgrepl, pgreplJson, psql, startPgrepl } from './fixture.js';

/** A one-node cluster holding ~300 MB, so a clone of it runs long enough to be interrupted. */
async function bigPrimary(t: TestContext): Promise<{ dir: string; bindir: string }> {
  const { bindir } = await findBinaries();
  const dir = await clusterDir(t);
  await pgreplJson(['up', '--dir', dir, '--replicas', '0', '--port', String(await freePortBlock(2))]);
  const url = (await pgreplJson<{ url: string }>(['url', 'pg1', '--dir', dir])).url;
  await psql(bindir, url, "CREATE TABLE big AS SELECT g, repeat('x', 1000) AS pad FROM generate_series(1, 300000) g");
  return { dir, bindir };
}

/** Starts `up --replicas 1` and returns once pg_basebackup has begun writing pg2's data directory. */
interface RunningUp {
  readonly exited: Promise<number | null>;
  stderr(): string;
  kill(signal: NodeJS.Signals): void;
}

async function upUntilCloneWrites(dir: string): Promise<RunningUp> {
  const child = startPgrepl(['up', '--dir', dir, '--replicas', '1', '--json']);
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  let exitedEarly = false;
  const exited = new Promise<number | null>((res) => child.once('close', (code) => res(code)));
  void exited.then(() => (exitedEarly = true));
  await waitFor(
    async () => {
      if (exitedEarly) throw new Error(`up exited before the clone was seen: ${stderr}`);
      return (await readdir(join(dir, 'nodes', 'pg2', 'data')).catch(() => [])).length > 0 ? true : undefined;
    },
    { what: 'the clone to start writing', timeoutMs: 30_000, intervalMs: 2 },
  );
  return { exited, stderr: () => stderr, kill: (signal) => void child.kill(signal) };
}

async function assertUpClonesAgain(dir: string, bindir: string): Promise<string> {
  const again = await pgrepl(['up', '--dir', dir, '--json']);
  assert.equal(again.code, 0, again.stderr);
  assert.deepEqual((JSON.parse(again.stdout) as { cloned: string[] }).cloned, ['pg2']);
  const replicaUrl = (await pgreplJson<{ url: string }>(['url', 'pg2', '--dir', dir])).url;
  assert.equal(await psql(bindir, replicaUrl, 'SELECT count(*) FROM big'), '300000');
  return again.stderr;
}

test('an up interrupted mid-clone is finished by the next up, which redoes only the half-built replica', async (t) => {
  const { dir, bindir } = await bigPrimary(t);
  const run = await upUntilCloneWrites(dir);
  run.kill('SIGTERM');
  assert.equal(await run.exited, 143);
  assert.match(run.stderr(), /interrupted by SIGTERM.*half-built/);
  const state = JSON.parse(await readFile(join(dir, 'state', 'pg2.json'), 'utf8')) as { phase: string };
  assert.equal(state.phase, 'cloning');
  assert.match(await assertUpClonesAgain(dir, bindir), /half-built; removing it and cloning again/);
});

test('an up killed outright mid-clone: the next up stops the orphaned pg_basebackup and clones again', async (t) => {
  const { dir, bindir } = await bigPrimary(t);
  const run = await upUntilCloneWrites(dir);
  run.kill('SIGKILL');
  await run.exited;
  await assertUpClonesAgain(dir, bindir);
});
