import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import { waitFor } from '../../src/util/wait.js';
import { join } from 'node:path';
import { findBinaries } from '../../src/pg/binaries.js';
import { clusterDir, freePortBlock, pgrepl, pgreplJson, psql, startPgrepl } from './fixture.js';

test('an up interrupted mid-clone is finished by the next up, which redoes only the half-built replica', async (t) => {
  const bin = await findBinaries();
  const dir = await clusterDir(t);
  const port = await freePortBlock(2);
  await pgreplJson(['up', '--dir', dir, '--replicas', '0', '--port', String(port)]);
  const url = (await pgreplJson<{ url: string }>(['url', 'pg1', '--dir', dir])).url;
  // About 300 MB, so the clone is still running when the first progress line arrives.
  await psql(bin.bindir, url, "CREATE TABLE big AS SELECT g, repeat('x', 1000) AS pad FROM generate_series(1, 300000) g");

  const child = startPgrepl(['up', '--dir', dir, '--replicas', '1', '--json']);
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  let exitedEarly = false;
  const exited = new Promise<number | null>((res) => child.once('exit', (code) => res(code)));
  void exited.then(() => (exitedEarly = true));
  // pg_basebackup has started writing pg2's data directory: interrupt now.
  await waitFor(
    async () => {
      if (exitedEarly) throw new Error(`up exited before the clone was seen: ${stderr}`);
      return (await readdir(join(dir, 'nodes', 'pg2', 'data')).catch(() => [])).length > 0 ? true : undefined;
    },
    { what: 'the clone to start writing', timeoutMs: 30_000, intervalMs: 2 },
  );
  child.kill('SIGTERM');
  assert.equal(await exited, 143);
  assert.match(stderr, /interrupted by SIGTERM.*half-built/);
  const state = JSON.parse(await readFile(join(dir, 'nodes', 'pg2', 'node.json'), 'utf8')) as { phase: string };
  assert.equal(state.phase, 'cloning');

  const again = await pgrepl(['up', '--dir', dir, '--json']);
  assert.equal(again.code, 0, again.stderr);
  assert.match(again.stderr, /half-built; removing it and cloning again/);
  assert.deepEqual((JSON.parse(again.stdout) as { cloned: string[] }).cloned, ['pg2']);
  const replicaUrl = (await pgreplJson<{ url: string }>(['url', 'pg2', '--dir', dir])).url;
  assert.equal(await psql(bin.bindir, replicaUrl, 'SELECT count(*) FROM big'), '300000');
});
