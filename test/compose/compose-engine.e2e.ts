/**
 * `pgrepl compose` on a real Docker engine (`npm run test:compose`): two projects at once with
 * default settings; streaming, replay and healthchecks; a restart; a primary killed during its first
 * initialisation; a standby killed mid-clone; failover and rejoin under a writer (no acknowledged
 * write lost under --sync 1, never two writable primaries); down -v. Skipped, saying why, without an
 * engine and image (see engine.ts, which starts one with the shared setup script where it can).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { waitFor } from '../../src/util/wait.js';
import { Writer } from '../integration/writer.js';
import { dockerCompose, findEngine, runProgram } from './engine.js';
import {
  cli, compose, health, logs, newProject, portOf, sql, status, trySql, waitStreaming, writeAndReplay, WritableProbe, type Project,
} from './fixture.js';

const figures: Record<string, number> = {};
const since = (t0: number): number => Math.round((Date.now() - t0) / 100) / 10;

/** An extra init file, run before pgrepl's hook, that holds the first initialisation so the test can kill it there. */
async function holdFirstInit(p: Project): Promise<void> {
  await writeFile(join(p.dir, 'hold.sh'), 'echo "pgrepl-test: holding the first initialisation"; sleep 600\n', { mode: 0o755 });
  await writeFile(join(p.dir, 'docker-compose.override.yml'),
    'services:\n  pg1:\n    volumes:\n      - {type: bind, source: ./hold.sh, target: /docker-entrypoint-initdb.d/05-hold.sh, read_only: true}\n');
}

async function interruptedInit(b: Project): Promise<void> {
  await waitFor(async () => ((await logs(b, 'pg1')).includes('holding the first initialisation') ? true : undefined), { what: 'pg1 to run initdb', timeoutMs: 300_000, intervalMs: 500 });
  await compose(b, ['kill', 'pg1']);
  await rm(join(b.dir, 'docker-compose.override.yml'));
  await compose(b, ['up', '-d', 'pg1']);
  await waitStreaming(b, 'pg1');
  assert.match(await logs(b, 'pg1'), /first initialisation was cut short; removing it and initialising again/);
  assert.equal(await sql(b, 'pg1', "SELECT rolreplication, rolsuper FROM pg_roles WHERE rolname = 'replicator'"), 'true|false');
  assert.equal(await sql(b, 'pg1', "SELECT count(*) FROM pg_hba_file_rules WHERE auth_method NOT IN ('scram-sha-256', 'peer', 'reject') OR address = 'all' OR error IS NOT NULL"), '0');
}

async function killMidClone(a: Project): Promise<void> {
  await compose(a, ['stop', 'pg3']);
  await compose(a, ['run', '--rm', '--no-deps', '-T', 'pg3', 'reclone']);
  await sql(a, 'pg1', "CREATE TABLE bulk AS SELECT i, repeat('x', 400) AS pad FROM generate_series(1, 300000) AS i");
  // The clone is slowed down (~130 MB at 20 MB/s) so the kill lands in the middle of the copy.
  await writeFile(join(a.dir, 'docker-compose.override.yml'), 'services:\n  pg3:\n    environment:\n      PGREPL_CLONE_MAX_RATE: 20M\n');
  await compose(a, ['up', '-d', '--no-deps', 'pg3']);
  // Killed once its copy is under way (some MB streamed of ~130), so files of a partial clone are left.
  await waitFor(async () => (Number(await trySql(a, 'pg1', 'SELECT coalesce(max(backup_streamed), 0) FROM pg_stat_progress_basebackup')) > 8e6 ? true : undefined),
    { what: 'pg3 to be cloning', timeoutMs: 300_000, intervalMs: 20 });
  await compose(a, ['kill', 'pg3']);
  await rm(join(a.dir, 'docker-compose.override.yml'));
  const left = await compose(a, ['run', '--rm', '--no-deps', '-T', '-u', 'postgres', '--entrypoint', 'bash', 'pg3', '-c', 'cat "$PGREPL_STATE_DIR/node-state"; ls -A "$PGDATA" | wc -l']);
  const [state, files] = left.trim().split('\n').slice(-2);
  assert.equal(state, 'cloning');
  assert.ok(Number(files) > 0, 'the kill did not leave a partial clone');
  await compose(a, ['up', '-d', '--no-deps', 'pg3']);
  await waitStreaming(a, 'pg1');
  assert.match(await logs(a, 'pg3'), /a clone was cut short; removing it and cloning again/);
}

async function failoverUnderWriter(a: Project): Promise<string> {
  await sql(a, 'pg1', 'CREATE TABLE writes (id int PRIMARY KEY)');
  const writer = new Writer(a.nodes.map((n) => portOf(a, n)), a.password, 'writes', 240_000);
  const probe = new WritableProbe(a);
  let to = '';
  writer.start();
  probe.start();
  try {
    await waitFor(() => (writer.acked.length > 100 ? true : undefined), { what: 'the writer to commit', timeoutMs: 30_000 });
    const t0 = Date.now();
    const result = await cli(a, ['failover', '--json']);
    figures.failoverCommandS = since(t0);
    assert.equal(result.code, 0, result.stderr);
    const failover = JSON.parse(result.stdout) as { from: string; to: string; fenced: string[] };
    assert.equal(failover.from, 'pg1');
    assert.deepEqual(failover.fenced, ['pg1']);
    to = failover.to;
    assert.match(to, /^pg[23]$/);
    await waitFor(() => writer.firstAckAfter(t0, portOf(a, 'pg1')), { what: 'a write acknowledged by the new primary', timeoutMs: 180_000 });
    figures.failoverToFirstWriteS = (writer.firstAckAfter(t0, portOf(a, 'pg1'))! - t0) / 1000;
    await waitStreaming(a, to, a.nodes.filter((n) => n !== 'pg1'));
    // Any later up -d starts the old primary read-only.
    await compose(a, ['up', '-d']);
    await waitFor(async () => ((await logs(a, 'pg1')).includes('FENCED') ? true : undefined), { what: 'pg1 to start fenced', timeoutMs: 180_000, intervalMs: 500 });
    const t1 = Date.now();
    const rejoin = await cli(a, ['rejoin', 'pg1', '--json']);
    figures.rejoinS = since(t1);
    assert.equal(rejoin.code, 0, rejoin.stderr);
    assert.equal((JSON.parse(rejoin.stdout) as { method: string }).method, 'rewind');
    await waitStreaming(a, to);
    await waitFor(() => (writer.ackedAt.filter((x) => x.at > Date.now() - 1000).length > 10 ? true : undefined), { what: 'writes after the rejoin', timeoutMs: 30_000 });
  } finally {
    await writer.stop();
    await probe.stop();
  }
  assert.deepEqual(probe.overlaps(), [], 'two nodes were writable at once');
  assert.ok(probe.writable.some((w) => w.node === 'pg1') && probe.writable.some((w) => w.node !== 'pg1'), 'the probe saw both primaries');
  assert.ok(!probe.writable.some((w) => w.node === 'pg1' && w.from > Math.min(...probe.writable.filter((x) => x.node !== 'pg1').map((x) => x.from))),
    'the old primary was writable after the new one');
  const acked = writer.acked;
  await writeAndReplay(a, to, 'after-failover');
  for (const node of a.nodes) {
    assert.equal(await sql(a, node, `SELECT count(*) FROM writes WHERE id = ANY('{${acked.join(',')}}'::int[])`), String(acked.length), `${node} lacks acknowledged writes`);
  }
  return to;
}

test('pgrepl compose on a real engine: two projects, restarts, interrupted init and clone, failover and rejoin under a writer, down -v', { timeout: 30 * 60_000 }, async (t) => {
  const engine = await findEngine();
  if (typeof engine === 'string') {
    t.skip(engine);
    return;
  }
  const started = Date.now();
  t.after(() => t.diagnostic(`figures ${JSON.stringify(figures)}`));
  const a = await newProject(t, engine, 2, ['--sync', '1']);
  const b = await newProject(t, engine, 1);
  await holdFirstInit(b);

  // Two projects with default settings at once: Docker picks each one's subnet.
  const t0 = Date.now();
  await Promise.all([compose(a, ['up', '-d']), compose(b, ['up', '-d'])]);
  await waitStreaming(a, 'pg1');
  figures.upToStreamingS = since(t0);
  await sql(a, 'pg1', 'CREATE TABLE probe (v text)');
  await writeAndReplay(a, 'pg1', 'first');
  const t1 = Date.now();
  await interruptedInit(b);
  figures.interruptedInitS = since(t1);

  await t.test('secrets, authentication and the psql idiom', async () => {
    // The clones' wait for their primary authenticates for real: no failed login per clone in its log.
    for (const p of [a, b]) assert.doesNotMatch(await logs(p, 'pg1'), /FATAL: .*(pg_hba\.conf|authentication failed)/, 'a failed login on the primary');
    for (const node of a.nodes) {
      const id = (await compose(a, ['ps', '-q', node])).trim();
      const env = (await runProgram('docker', ['inspect', '--format', '{{json .Config.Env}}', id])).out;
      assert.ok(!env.includes(a.password), `${node}: the password is in the container environment`);
      assert.doesNotMatch(env, /PASSWORD=|SCRAM=/, `${node}: a secret value in the environment`);
    }
    assert.equal((await compose(a, ['exec', '-T', 'pg1', 'psql', '-U', 'postgres', '-Atc', 'SELECT 1'])).trim(), '1');
    assert.equal((await compose(a, ['exec', '-T', 'pg2', 'psql', '-Atc', 'SELECT pg_is_in_recovery()'])).trim(), 't');
    const replicator = await dockerCompose(engine, a.dir, ['exec', '-T', '-u', 'postgres', 'pg1', 'psql', '-U', 'replicator', '-d', 'postgres', '-c', 'SELECT 1']);
    assert.notEqual(replicator.code, 0);
    assert.match(replicator.out, /pg_hba\.conf rejects connection/);
  });

  await t.test('the postgres account cannot steer root through the volume (links planted where root once wrote)', async () => {
    await compose(a, ['exec', '-T', 'pg2', 'bash', '-c', 'printf root-only > /root/victim && chmod 600 /root/victim']);
    await compose(a, ['exec', '-T', '-u', 'postgres', 'pg2', 'bash', '-c',
      'cd "$PGREPL_STATE_DIR" && for n in replication.pgpass.tmp node-state.tmp; do ln -sfn /root/victim "$n"; done']);
    await compose(a, ['restart', 'pg2']);
    await waitStreaming(a, 'pg1');
    assert.equal((await compose(a, ['exec', '-T', 'pg2', 'stat', '-c', '%U %a %s', '/root/victim'])).trim(), 'root 600 9');
  });

  await t.test('healthy means streaming; a restart keeps everything', async () => {
    await waitFor(async () => ((await Promise.all(a.nodes.map((n) => health(a, n)))).every((h) => h === 'healthy') ? true : undefined),
      { what: 'every node healthy', timeoutMs: 180_000, intervalMs: 500 });
    await compose(a, ['stop', 'pg1']);
    await waitFor(async () => ((await health(a, 'pg2')) === 'unhealthy' ? true : undefined), { what: 'pg2 unhealthy without its primary', timeoutMs: 180_000, intervalMs: 500 });
    await compose(a, ['restart']);
    await waitStreaming(a, 'pg1');
    await writeAndReplay(a, 'pg1', 'after-restart');
    assert.equal(await sql(a, 'pg3', "SELECT string_agg(v, ',' ORDER BY v) FROM probe"), 'after-restart,first');
  });

  await t.test('a standby killed mid-clone clones again', async () => {
    const t2 = Date.now();
    await killMidClone(a);
    figures.killMidCloneS = since(t2);
  });

  let primary = 'pg1';
  await t.test('failover and rejoin under a writer: nothing acknowledged lost, never two writable primaries', async () => {
    primary = await failoverUnderWriter(a);
    const s = await status(a);
    assert.equal(s.primary, primary);
  });

  await t.test('rejoin --reclone copies the primary afresh', async () => {
    const other = a.nodes.find((n) => n !== primary && n !== 'pg1')!;
    const result = await cli(a, ['rejoin', other, '--reclone', '--json']);
    assert.equal(result.code, 0, result.stderr);
    assert.equal((JSON.parse(result.stdout) as { method: string }).method, 'reclone');
    await writeAndReplay(a, primary, 'after-reclone');
  });

  await t.test('down -v removes the containers and volumes', async () => {
    for (const p of [a, b]) {
      await compose(p, ['down', '-v']);
      const volumes = (await runProgram('docker', ['volume', 'ls', '-q', '--filter', `label=com.docker.compose.project=${p.name}`], engine.env)).out.trim();
      assert.equal(volumes, '', `${p.name} volumes left`);
    }
  });
  figures.totalS = since(started);
});
