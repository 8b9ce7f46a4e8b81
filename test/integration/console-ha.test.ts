import { test } from 'node:test';
import assert from 'node:assert/strict';
import parsePrometheus from 'parse-prometheus-text-format';
import { waitFor } from '../../src/util/wait.js';
import type { StatusDocument } from '../../src/console/types.js';
import { browser, noBrowser } from './browser.js';
import { startConsole } from './console-process.js';
import { clusterDir, freePortBlock, pgreplJson } from './fixture.js';

const PAGE_WAIT = { timeout: 30_000 };

async function gauge(url: string, name: string, labels: Record<string, string> = {}): Promise<number | undefined> {
  const family = parsePrometheus(await (await fetch(`${url}metrics`)).text()).find((f) => f.name === name);
  const sample = family?.metrics.find((m) => Object.entries(labels).every(([k, v]) => m.labels?.[k] === v));
  return sample === undefined ? undefined : Number(sample.value);
}

test('console with HA: the lease and agents are shown and exported; pause and resume work with the token', { skip: noBrowser() }, async (t) => {
  const dir = await clusterDir(t);
  const port = await freePortBlock(4);
  await pgreplJson(['up', '--dir', dir, '--replicas', '1', '--port', String(port), '--ha', '--api-port', String(port + 2)]);
  const leader = await waitFor(async () => {
    const s = await pgreplJson<StatusDocument>(['status', '--dir', dir]);
    return s.leader && s.nodes.every((n) => n.agent?.healthy && n.agent.reason) ? s.leader : undefined;
  }, { what: 'the agents to elect a leader and report', timeoutMs: 60_000, intervalMs: 200 });
  const console_ = await startConsole(t, dir);
  const page = await (await browser(t)).newPage();
  await page.goto(console_.url);

  await page.locator('#ha-summary', { hasText: `${leader} holds the leader lease` }).waitFor(PAGE_WAIT);
  assert.match(await page.locator(`#topology g[data-node="${leader}"] .name`).textContent() ?? '', /★/);
  for (const node of ['pg1', 'pg2']) {
    assert.equal(await page.locator(`#topology g[data-node="${node}"] circle.agent.ok`).count(), 1, `${node}'s agent shown healthy`);
    assert.match(await page.locator(`#cards article[data-node="${node}"] [data-field="agent"]`).textContent() ?? '', /^healthy — ./);
    assert.equal(await gauge(console_.url, 'pgrepl_agent_healthy', { node }), 1);
  }
  assert.equal(await gauge(console_.url, 'pgrepl_leader', { node: leader }), 1);
  assert.equal(await gauge(console_.url, 'pgrepl_cluster_unlocked'), 0);
  assert.equal(await gauge(console_.url, 'pgrepl_is_paused'), 0);

  const act = async (button: string): Promise<void> => {
    await page.locator('#action-result').evaluate((el) => el.removeAttribute('data-outcome'));
    await page.locator(button).click();
    await page.locator('#confirm-ok').click();
    await page.locator('#action-result[data-outcome]').waitFor(PAGE_WAIT);
  };
  await act('#pause');
  assert.equal(await page.locator('#action-result').getAttribute('data-outcome'), 'refused', 'no token, no pause');
  await page.locator('#token').fill(console_.token);
  await act('#pause');
  assert.equal(await page.locator('#action-result').getAttribute('data-outcome'), 'accepted');
  await page.locator('#events li[data-kind="paused"]', { hasText: 'automatic failover paused' }).waitFor(PAGE_WAIT);
  await page.locator('#ha-summary', { hasText: 'PAUSED' }).waitFor(PAGE_WAIT);
  assert.equal((await pgreplJson<StatusDocument>(['status', '--dir', dir])).paused, true);
  await act('#resume');
  await page.locator('#events li[data-kind="paused"]', { hasText: 'automatic failover resumed' }).waitFor(PAGE_WAIT);
  assert.equal((await pgreplJson<StatusDocument>(['status', '--dir', dir])).paused, false);
});
