import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { request } from 'node:http';
import { join } from 'node:path';
import parsePrometheus from 'parse-prometheus-text-format';
import { findBinaries } from '../../src/pg/binaries.js';
import { parseLsn } from '../../src/pg/lsn.js';
import { physicalSlots, serverLook, serverPosition, walSenders } from '../../src/pg/queries.js';
import { withConnection } from '../../src/pg/sql.js';
import { waitFor } from '../../src/util/wait.js';
import type { StatusDocument } from '../../src/console/types.js';
import { browser, noBrowser } from './browser.js';
import { startConsole } from './console-process.js';
import { clusterDir, freePortBlock, pgreplJson, psql, superuserPassword } from './fixture.js';

const PAGE_WAIT = { timeout: 30_000 };

async function metricsOf(url: string): Promise<Map<string, Array<{ labels: Record<string, string>; value: number }>>> {
  const res = await fetch(`${url}metrics`);
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
  const families = parsePrometheus(await res.text());
  return new Map(families.map((f) => [f.name, f.metrics.map((m) => ({ labels: m.labels ?? {}, value: Number(m.value) }))]));
}

const valueOf = (metrics: Awaited<ReturnType<typeof metricsOf>>, name: string, labels: Record<string, string>): number | undefined =>
  metrics.get(name)?.find((m) => Object.entries(labels).every(([k, v]) => m.labels[k] === v))?.value;

/** A GET with a chosen Host header (fetch does not let one set it). */
function getWithHost(url: string, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(url, { headers: { host } }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('error', reject);
    req.end();
  });
}

test('the console shows the cluster live, its metrics parse right, and actions need the token', { skip: noBrowser() }, async (t) => {
  const { bindir } = await findBinaries();
  const dir = await clusterDir(t);
  await pgreplJson(['up', '--dir', dir, '--replicas', '2', '--port', String(await freePortBlock(3))]);
  const urlOf = async (node: string): Promise<string> => (await pgreplJson<{ url: string }>(['url', node, '--dir', dir])).url;
  const console_ = await startConsole(t, dir);
  assert.match(console_.url, /^http:\/\/127\.0\.0\.1:\d+\/$/, 'binds to loopback by default');
  const page = await (await browser(t)).newPage();
  const requested = new Set<string>();
  page.on('request', (r) => requested.add(new URL(r.url()).origin));
  const scriptErrors: string[] = [];
  page.on('pageerror', (error) => scriptErrors.push(error.message));
  const started = Date.now();
  await page.goto(console_.url);

  await t.test('every node is shown with its role, in the cards and the topology', async () => {
    const status = await pgreplJson<StatusDocument>(['status', '--dir', dir]);
    for (const node of status.nodes) {
      const card = page.locator(`#cards article[data-node="${node.name}"]`);
      await card.waitFor(PAGE_WAIT);
      assert.equal(await card.getAttribute('data-role'), node.role);
      assert.equal(await card.locator('[data-field="role"]').textContent(), node.role);
      assert.equal(await page.locator(`#topology g[data-node="${node.name}"]`).getAttribute('data-role'), node.role);
    }
    assert.equal(await page.locator('#cards article').count(), 3);
    t.diagnostic(`first load to every card: ${Date.now() - started} ms`);
  });

  await t.test('a replica whose replay is paused shows its lag rise, then fall back after resume', async () => {
    const replica = await urlOf('pg2');
    await page.waitForFunction(() => document.querySelector('#cards article[data-node="pg2"] [data-field="lag-bytes"]')?.getAttribute('data-value') === '0', null, PAGE_WAIT);
    await psql(bindir, replica, 'SELECT pg_wal_replay_pause()');
    try {
      await psql(bindir, await urlOf('pg1'), "CREATE TABLE console_probe AS SELECT g, repeat('x', 100) AS pad FROM generate_series(1, 20000) g");
      // pg2 stays behind while pg3, replaying, catches up: the page tells them apart.
      await page.waitForFunction(() => {
        const lag = (node: string): number => Number(document.querySelector(`#cards article[data-node="${node}"] [data-field="lag-bytes"]`)?.getAttribute('data-value') ?? NaN);
        return lag('pg2') > 1_000_000 && lag('pg3') === 0;
      }, null, PAGE_WAIT);
      assert.match(await page.locator('#chart').getAttribute('data-series') ?? '', /pg2/);
    } finally {
      await psql(bindir, replica, 'SELECT pg_wal_replay_resume()');
    }
    await page.waitForFunction(() => document.querySelector('#cards article[data-node="pg2"] [data-field="lag-bytes"]')?.getAttribute('data-value') === '0', null, PAGE_WAIT);
  });

  await t.test('/metrics parses as Prometheus text and carries the values status reports', async () => {
    // WAL moves now and then on an idle primary (a running-xacts record every 15 s): compare a
    // scrape with a status read that saw the same primary position.
    const { status, metrics } = await waitFor(async () => {
      const metrics = await metricsOf(console_.url);
      const status = await pgreplJson<StatusDocument>(['status', '--dir', dir]);
      const primary = status.nodes.find((n) => n.role === 'primary')!;
      return valueOf(metrics, 'pgrepl_wal_location_bytes', { node: primary.name }) === Number(parseLsn(primary.lsn!)) ? { status, metrics } : undefined;
    }, { what: 'a scrape at the position status reads', timeoutMs: 20_000, intervalMs: 200 });
    for (const node of status.nodes) {
      assert.equal(valueOf(metrics, 'pgrepl_up', { node: node.name }), 1, `${node.name} up`);
      assert.equal(valueOf(metrics, 'pgrepl_primary', { node: node.name }), node.role === 'primary' ? 1 : 0);
      assert.equal(valueOf(metrics, 'pgrepl_postgres_timeline', { node: node.name }), node.timeline);
    }
    const replica = status.nodes.find((n) => n.name === 'pg2')!;
    assert.equal(valueOf(metrics, 'pgrepl_wal_replayed_location_bytes', { node: 'pg2' }), Number(parseLsn(replica.replayLsn!)));
    assert.equal(valueOf(metrics, 'pgrepl_replication_lag_bytes', { node: 'pg2', upstream: 'pg1' }), replica.lagBytes);
    assert.equal(valueOf(metrics, 'pgrepl_postgres_streaming', { node: 'pg3', upstream: 'pg1' }), 1);
    assert.equal(valueOf(metrics, 'pgrepl_replication_slot_active', { node: 'pg1', slot: 'pg2' }), 1);
    assert.equal(valueOf(metrics, 'pgrepl_replication_slot_wal_status', { node: 'pg1', slot: 'pg3', wal_status: 'reserved' }), 1);
    assert.equal(valueOf(metrics, 'pgrepl_sync_standby', { node: 'pg2' }), 0);
    assert.ok((valueOf(metrics, 'pgrepl_console_samples_total', {}) ?? 0) > 0);
  });

  await t.test("the console's one-statement look at a node reads what the three separate queries read", async () => {
    const primary = (await pgreplJson<StatusDocument>(['status', '--dir', dir])).nodes.find((n) => n.role === 'primary')!;
    const target = { host: primary.host, port: primary.port, user: 'postgres', password: await superuserPassword(dir) };
    await withConnection(target, async (db) => {
      // Equal once no WAL was written between the two reads (an idle primary still writes now and then).
      await waitFor(async () => {
        const look = await serverLook(db);
        const apart = { position: await serverPosition(db), senders: await walSenders(db), slots: await physicalSlots(db) };
        return JSON.stringify(look, (_, v: unknown) => (typeof v === 'bigint' ? String(v) : v)) === JSON.stringify(apart, (_, v: unknown) => (typeof v === 'bigint' ? String(v) : v)) ? true : undefined;
      }, { what: 'serverLook to equal serverPosition + walSenders + physicalSlots', timeoutMs: 20_000, intervalMs: 100 });
      const look = await serverLook(db);
      assert.deepEqual(look.senders.map((s) => s.applicationName).sort(), ['pg2', 'pg3']);
      assert.deepEqual(look.slots.map((s) => [s.name, s.active]), [['pg2', true], ['pg3', true]]);
    });
  });

  await t.test('no password reaches the page, the API or the metrics', async () => {
    const secrets = [await superuserPassword(dir), ...(await readFile(join(dir, 'secrets', 'replication.pgpass'), 'utf8')).trim().split('\n').map((l) => l.split(':').at(-1)!)];
    const shown = [
      await page.content(),
      await (await fetch(`${console_.url}api/status`)).text(),
      await (await fetch(`${console_.url}api/snapshot`)).text(),
      await (await fetch(`${console_.url}metrics`)).text(),
      console_.stderr(),
    ].join('\n');
    for (const secret of secrets) {
      assert.ok(secret.length >= 16, 'a real password was read');
      assert.ok(!shown.includes(secret), 'a password is shown');
    }
  });

  await t.test('/api/status is status --json, and a foreign Host header is refused', async () => {
    // Equal once both read the same WAL positions (an idle primary still writes now and then).
    await waitFor(async () => {
      const [mine, cli] = await Promise.all([
        fetch(`${console_.url}api/status`).then((r) => r.json() as Promise<StatusDocument>),
        pgreplJson<StatusDocument>(['status', '--dir', dir]),
      ]);
      return JSON.stringify(mine) === JSON.stringify(cli) ? true : undefined;
    }, { what: '/api/status to equal status --json', timeoutMs: 20_000, intervalMs: 200 });
    const mine = (await (await fetch(`${console_.url}api/status`)).json()) as StatusDocument;
    assert.deepEqual(Object.keys(mine), ['dir', 'nodes', 'warnings', 'intent']);
    assert.equal(await getWithHost(`${console_.url}api/status`, 'attacker.example:80'), 403);
  });

  await t.test('an action without the token is refused; with it, a switchover runs and shows', async () => {
    const switchTo = async (): Promise<string | null> => {
      await page.locator('#cards article[data-node="pg2"] button[data-action="switchover"]').click();
      await page.locator('#confirm-ok').click();
      await page.locator('#action-result[data-outcome]').waitFor(PAGE_WAIT);
      return page.locator('#action-result').getAttribute('data-outcome');
    };
    assert.equal(await switchTo(), 'refused');
    assert.match(await page.locator('#action-result').textContent() ?? '', /token/);
    const direct = await fetch(`${console_.url}api/actions/switchover`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: 'Bearer wrong' }, body: '{"to":"pg2"}' });
    assert.equal(direct.status, 401);
    assert.equal((await pgreplJson<StatusDocument>(['status', '--dir', dir])).nodes[0]!.role, 'primary', 'nothing moved');

    await page.locator('#token').fill(console_.token);
    await page.locator('#action-result').evaluate((el) => el.removeAttribute('data-outcome'));
    assert.equal(await switchTo(), 'accepted');
    await page.waitForFunction(() => document.querySelector('#cards article[data-node="pg2"]')?.getAttribute('data-role') === 'primary', null, { timeout: 60_000 });
    await page.locator('#events li[data-kind="switchover"]', { hasText: 'pg2 is the primary' }).waitFor(PAGE_WAIT).catch(async (error: Error) => {
      throw new Error(`${error.message}\nevents on the page:\n${await page.locator('#events').innerText()}`);
    });
    await page.waitForFunction(() => document.querySelector('#cards article[data-node="pg1"]')?.getAttribute('data-state') === 'streaming', null, PAGE_WAIT);
    const status = await pgreplJson<StatusDocument>(['status', '--dir', dir]);
    assert.equal(status.nodes.find((n) => n.name === 'pg2')!.role, 'primary');
    if (process.env.PGREPL_CONSOLE_SCREENSHOT) await page.screenshot({ path: process.env.PGREPL_CONSOLE_SCREENSHOT, fullPage: true });
  });

  assert.deepEqual([...requested], [new URL(console_.url).origin], 'the page requested nothing but its console');
  assert.deepEqual(scriptErrors, [], 'the page threw no error');
});
