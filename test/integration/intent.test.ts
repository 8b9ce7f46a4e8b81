import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { stat, symlink, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { findBinaries } from '../../src/pg/binaries.js';
import { waitFor } from '../../src/util/wait.js';
import type { ClusterStatus } from '../../src/cluster/assess.js';
import { assertOneLineError, clusterDir, freePortBlock, nodePid, pgrepl, pgreplJson, psql, startPgrepl, superuserPassword, waitForPsql } from './fixture.js';
import { Writer } from './writer.js';

/** A primary with two replicas under an ANY 1 quorum, an empty `writes` table, and a writer on it. */
async function syncCluster(t: TestContext): Promise<{ bindir: string; dir: string; ports: number[]; writer: Writer }> {
  const { bindir } = await findBinaries();
  const dir = await clusterDir(t);
  const port = await freePortBlock(3);
  await pgreplJson(['up', '--dir', dir, '--replicas', '2', '--sync', '1', '--port', String(port)]);
  await psql(bindir, await url(dir), 'CREATE TABLE writes (id int PRIMARY KEY)');
  const ports = [port, port + 1, port + 2];
  const writer = new Writer(ports, await superuserPassword(dir), 'writes', 60_000, 200_000);
  writer.start();
  t.after(() => writer.stop());
  await waitFor(() => (writer.acked.length >= 50 ? true : undefined), { what: 'the writer to get going', timeoutMs: 10_000 });
  return { bindir, dir, ports, writer };
}

async function url(dir: string, node?: string): Promise<string> {
  return (await pgreplJson<{ url: string }>(['url', ...(node ? [node] : []), '--dir', dir])).url;
}

/**
 * Runs `pgrepl ARGS` until it records `step` (PGREPL_TEST_PAUSE_AT makes it stop there), then
 * kills it with SIGKILL by its pid: a command that dies midway, as in a power cut.
 */
async function killAtStep(args: readonly string[], step: string): Promise<void> {
  const child = startPgrepl(args, { PGREPL_TEST_PAUSE_AT: step });
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  let exited = false;
  const exit = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  void exit.then(() => (exited = true));
  try {
    await waitFor(
      () => {
        if (exited) throw new Error(`pgrepl ${args.join(' ')} exited before step ${step}: ${stderr}`);
        return stderr.includes(`test pause after step ${step}`) ? true : undefined;
      },
      { what: `pgrepl ${args[0]} to reach step ${step}`, timeoutMs: 30_000, intervalMs: 5 },
    );
  } finally {
    process.kill(child.pid!, 'SIGKILL');
    await exit;
  }
}

interface IntentDoc {
  intent: { op: string; from: string; to: string; step: string; interrupted: boolean; resume: string } | null;
}

/** One primary, every other node a streaming replica, no warnings, no intent left. */
async function assertHealthy(dir: string, primary: string): Promise<void> {
  const status = await pgreplJson<ClusterStatus & IntentDoc>(['status', '--dir', dir]);
  assert.deepEqual(status.nodes.map((n) => [n.name, n.state]), status.nodes.map((n) => [n.name, n.name === primary ? 'primary' : 'streaming']));
  assert.equal(status.intent, null);
}

/** Every acknowledged id is on `node`, after the writer stopped. */
async function assertAllAcked(bindir: string, dir: string, node: string, writer: Writer): Promise<void> {
  await writer.stop();
  const acked = writer.acked;
  const present = await psql(bindir, await url(dir, node), `SELECT count(*) FROM writes WHERE id = ANY('{${acked.join(',')}}'::int[])`);
  assert.equal(Number(present), acked.length, `acknowledged writes missing on ${node}`);
}

test('a failover killed right after the promotion: up refuses, status shows it, the next failover finishes it; no acknowledged write lost', async (t) => {
  const { bindir, dir, writer } = await syncCluster(t);
  process.kill(await nodePid(dir, 'pg1'), 'SIGKILL');
  await killAtStep(['failover', '--dir', dir], 'promoted');
  assert.equal((await stat(join(dir, 'intent.json'))).mode & 0o777, 0o600);

  const status = await pgreplJson<IntentDoc>(['status', '--dir', dir]);
  assert.equal(status.intent?.op, 'failover');
  assert.equal(status.intent?.step, 'promoted');
  assert.equal(status.intent?.interrupted, true);
  const to = status.intent!.to;
  assert.match((await pgrepl(['status', '--dir', dir])).stdout, new RegExp(`INTERRUPTED: failover from pg1 to ${to}.*last step \`promoted\`; finish it with \`pgrepl failover --to ${to}\``));
  const up = await pgrepl(['up', '--dir', dir]);
  assertOneLineError(up, new RegExp(`an interrupted failover from pg1 to ${to} .* last step \`promoted\` is unfinished`));
  assert.match(up.stderr, /hint: finish it first with `pgrepl failover --to pg\d`/);
  assertOneLineError(await pgrepl(['switchover', '--dir', dir]), /an interrupted failover/);

  const resumed = await pgreplJson<{ to: string; resumed: { step: string; action: string } }>(['failover', '--dir', dir]);
  assert.deepEqual([resumed.to, resumed.resumed.step, resumed.resumed.action], [to, 'promoted', 'rerun']);
  await waitFor(() => (writer.acked.length >= 100 ? true : undefined), { what: 'writes on the new primary', timeoutMs: 15_000 });
  await pgreplJson(['rejoin', 'pg1', '--dir', dir]);
  await assertHealthy(dir, to);
  await assertAllAcked(bindir, dir, to, writer);
});

test('a switchover killed with the old primary stopped, then one killed after the promotion: each finished by the next switchover; an unreadable intent fails closed', async (t) => {
  const { bindir, dir, writer } = await syncCluster(t);

  await killAtStep(['switchover', '--to', 'pg2', '--dir', dir], 'stopped');
  assertOneLineError(await pgrepl(['add-replica', '--dir', dir]), /an interrupted switchover from pg1 to pg2 .* last step `stopped`/);
  assertOneLineError(await pgrepl(['switchover', '--to', 'pg3', '--dir', dir]), /an interrupted switchover from pg1 to pg2/);
  const first = await pgreplJson<{ to: string; resumed: { action: string } }>(['switchover', '--dir', dir]);
  assert.deepEqual([first.to, first.resumed.action], ['pg2', 'promote']);
  await assertHealthy(dir, 'pg2');

  await killAtStep(['switchover', '--to', 'pg1', '--dir', dir], 'promoted');
  const second = await pgreplJson<{ to: string; resumed: { action: string } }>(['switchover', '--to', 'pg1', '--dir', dir]);
  assert.deepEqual([second.to, second.resumed.action], ['pg1', 'finish']);
  await assertHealthy(dir, 'pg1');
  await waitForPsql(bindir, await url(dir, 'pg2'), `SELECT count(*) >= ${writer.acked.length} FROM writes`, 't', 'pg2 to catch up');
  await assertAllAcked(bindir, dir, 'pg1', writer);

  // A record that cannot be trusted stops every changing command until a person looks.
  const intentFile = join(dir, 'intent.json');
  await writeFile(intentFile, '{"op": "failover", "from": ');
  assertOneLineError(await pgrepl(['up', '--dir', dir]), /intent\.json cannot be read/);
  assert.match((await pgrepl(['status', '--dir', dir])).stdout, /warning: .*intent\.json cannot be read/);
  await unlink(intentFile);
  await writeFile(join(dir, 'elsewhere.json'), JSON.stringify({ op: 'switchover', from: 'pg1', to: 'pg2', step: 'promoted', startedAt: 'x' }));
  await symlink(join(dir, 'elsewhere.json'), intentFile);
  assertOneLineError(await pgrepl(['switchover', '--dir', dir]), /intent\.json cannot be read .*symlink/);
  await unlink(intentFile);
  assert.equal((await pgrepl(['up', '--dir', dir])).code, 0);
});
