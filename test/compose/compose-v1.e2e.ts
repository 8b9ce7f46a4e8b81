/**
 * Compose v1 (`docker-compose` 1.29, Debian 12's) runs the generated project, not only parses it:
 * `up -d`, both standbys stream, and `pgrepl compose status`, `failover` and `rejoin` work against
 * it for a user who has no Compose v2 (pgrepl falls back to `docker-compose`). Part of `npm run
 * test:compose`; skipped, saying why, without an engine or without Compose v1.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { findEngine, runProgram, withComposeV1 } from './engine.js';
import { cli, compose, newProject, sql, status, waitStreaming, writeAndReplay } from './fixture.js';

test('Compose v1 (docker-compose 1.29) runs the project: up -d, both standbys stream; pgrepl compose status, failover and rejoin drive it', { timeout: 15 * 60_000 }, async (t) => {
  const engine = await findEngine();
  if (typeof engine === 'string') {
    t.skip(engine);
    return;
  }
  const v1 = await withComposeV1(engine);
  if (typeof v1 === 'string') {
    t.skip(v1);
    return;
  }
  const figures: Record<string, number> = {};
  const since = (t0: number): number => Math.round((Date.now() - t0) / 100) / 10;
  t.after(() => t.diagnostic(`figures ${JSON.stringify(figures)}; pgrepl chose Compose ${v1.env.PGREPL_COMPOSE ? 'by PGREPL_COMPOSE (v2 is installed system-wide)' : 'by itself (no v2: the fallback)'}`));
  const p = await newProject(t, v1, 2, ['--sync', '1']);
  await compose(p, ['config', '-q']);

  const t0 = Date.now();
  await compose(p, ['up', '-d']);
  await waitStreaming(p, 'pg1');
  figures.upToStreamingS = since(t0);
  await sql(p, 'pg1', 'CREATE TABLE probe (v text)');
  await writeAndReplay(p, 'pg1', 'v1-first');
  const text = await cli(p, ['status']);
  assert.equal(text.code, 0, text.stderr);
  assert.match(text.stdout, /^primary: pg1 /m);

  const t1 = Date.now();
  const failover = await cli(p, ['failover', '--json']);
  figures.failoverS = since(t1);
  assert.equal(failover.code, 0, failover.stderr);
  const { to, fenced } = JSON.parse(failover.stdout) as { to: string; fenced: string[] };
  assert.deepEqual(fenced, ['pg1']);
  assert.match((await compose(p, ['ps', 'pg1'])).split('\n').find((l) => l.includes('pg1')) ?? '', /Exit/, 'docker-compose stop did not stop pg1');
  await waitStreaming(p, to, p.nodes.filter((n) => n !== 'pg1'));
  await writeAndReplay(p, to, 'v1-after-failover', p.nodes.filter((n) => n !== 'pg1'));

  const t2 = Date.now();
  const rejoin = await cli(p, ['rejoin', 'pg1', '--json']);
  figures.rejoinS = since(t2);
  assert.equal(rejoin.code, 0, rejoin.stderr);
  assert.equal((await status(p)).primary, to);
  await waitStreaming(p, to);
  await writeAndReplay(p, to, 'v1-after-rejoin');

  await compose(p, ['down', '-v']);
  const volumes = (await runProgram('docker', ['volume', 'ls', '-q', '--filter', `label=com.docker.compose.project=${p.name}`], v1.env)).out.trim();
  assert.equal(volumes, '', 'docker-compose down -v left volumes');
  figures.totalS = since(t0);
});
