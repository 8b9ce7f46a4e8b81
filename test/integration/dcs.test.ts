// The DCS contract (src/ha/dcs/contract.ts) against both backends: local files raced by separate
// processes, and a real three-member etcd cluster on loopback. Then what only etcd has: endpoints.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { contractCases } from '../../src/ha/dcs/contract.js';
import { readdirSync, readFileSync } from 'node:fs';
import { waitFor } from '../../src/util/wait.js';
import { DcsUnavailableError } from '../../src/ha/dcs/dcs.js';
import { openDcs } from '../../src/ha/dcs/open.js';
import { etcdHarness, localHarness } from './dcs-harness.js';
import { etcdMissing, startEtcd } from './etcd.js';

/**
 * Keeps the etcd lease the key `key` is on alive, without rewriting the key: a holder whose
 * renewals stopped, on a store whose own (backstop) expiry stays out of the way of what is tested.
 */
async function holdKeyLease(etcdUrl: string, key: string): Promise<() => void> {
  const base = `http://${etcdUrl.replace(/^etcd:\/\//, '').split(',')[0]}`;
  const post = async (path: string, body: unknown): Promise<Record<string, unknown>> =>
    (await (await fetch(`${base}${path}`, { method: 'POST', body: JSON.stringify(body) })).json()) as Record<string, unknown>;
  const range = await post('/v3/kv/range', { key: Buffer.from(key).toString('base64') });
  const lease = (range.kvs as Array<{ lease: string }>)[0]!.lease;
  const timer = setInterval(() => void post('/v3/lease/keepalive', { ID: lease }).catch(() => undefined), 300);
  return () => clearInterval(timer);
}

for (const c of contractCases) {
  test(`local DCS: ${c.name}`, async (t) => c.run(await localHarness(t)));
}

test('etcd DCS', async (t) => {
  const missing = etcdMissing();
  if (missing) return t.skip(missing);
  const cluster = await startEtcd(t, 3);
  for (const [i, c] of contractCases.entries()) {
    await t.test(c.name, async (tt) => c.run(etcdHarness(tt, cluster, i)));
  }

  await t.test('the TTL is what etcd granted: whole seconds, at least its minimum', async (tt) => {
    const dcs = await openDcs(cluster.url(), { clusterDir: '/nonexistent', clusterName: 'ttl', ttlMs: 1200 });
    tt.after(() => dcs.close());
    assert.equal(dcs.ttlMs, 2000);
    assert.equal(await dcs.acquireLeader('a'), true);
    assert.equal(dcs.ttlMs, 2000);
    await dcs.releaseLeader('a');
  });

  await t.test('each reader counts the TTL from when it first saw the key unrenewed, and takes it over by compare-and-swap', async (tt) => {
    const options = { clusterDir: '/nonexistent', clusterName: 'observe', ttlMs: 2000 };
    const [a, b] = [await openDcs(cluster.url(), options), await openDcs(cluster.url(), options)];
    tt.after(() => Promise.all([a.close(), b.close()]));
    assert.equal(await a.acquireLeader('a'), true);
    tt.after(await holdKeyLease(cluster.url(), '/pgrepl/observe/leader'));
    const firstSeen = performance.now();
    assert.equal((await b.leader())?.holder, 'a');
    await waitFor(async () => ((await b.leader()) === null ? true : undefined), { what: 'b to see the lease unrenewed for a TTL', timeoutMs: 5000, intervalMs: 20 });
    assert.ok(performance.now() - firstSeen >= b.ttlMs - 1, 'expired before a TTL on the reader\'s clock');
    // A reader that only now looks counts from now: it may not take the key yet.
    const late = await openDcs(cluster.url(), options);
    tt.after(() => late.close());
    assert.equal((await late.leader())?.holder, 'a');
    assert.equal(await late.acquireLeader('late'), false);
    assert.equal(await b.acquireLeader('b'), true);
    assert.equal(await a.renewLeader('a'), false, 'the old holder cannot renew a key taken over');
    assert.equal((await late.leader())?.holder, 'b');
    assert.equal(await b.renewLeader('b'), true);
    await b.releaseLeader('b');
  });

  await t.test('an agent restarted within the TTL gets its own leader key back, on the same lease; renewing alone cannot (review F2)', async (tt) => {
    const options = { clusterDir: '/nonexistent', clusterName: 'restart', ttlMs: 2000 };
    const before = await openDcs(cluster.url(), options);
    const after = await openDcs(cluster.url(), options);
    tt.after(() => Promise.all([before.close(), after.close()]));
    assert.equal(await before.acquireLeader('a'), true);
    await before.close();
    assert.equal(await after.renewLeader('a'), false, 'a new client cannot renew the lease a former one was granted');
    assert.equal(await after.acquireLeader('a'), true);
    assert.equal(await after.renewLeader('a'), true);
    assert.equal(await after.acquireLeader('b'), false);
    await after.releaseLeader('a');
    assert.equal(await after.leader(), null);
  });

  // Last: it stops a member for good.
  await t.test('a stopped endpoint: DcsUnavailableError within the timeout alone, the next endpoint otherwise', async (tt) => {
    const leader = await cluster.leaderIndex();
    const follower = (leader + 1) % cluster.members.length;
    const others = cluster.members.map((_, i) => i).filter((i) => i !== follower);
    const options = { clusterDir: '/nonexistent', clusterName: 'failover', ttlMs: 2000, timeoutMs: 800 };
    const alone = await openDcs(cluster.url([follower]), options);
    const several = await openDcs(cluster.url([follower, ...others]), options);
    tt.after(() => Promise.all([alone.close(), several.close()]));
    assert.equal(await several.acquireLeader('a'), true);

    cluster.signal(follower, 'SIGSTOP'); // no answer at all: the timeout path
    const pid = cluster.members[follower]!.child.pid!;
    // Every thread stopped (state T), not only the signalled one: then nothing of it can answer.
    await waitFor(() => (procStates(pid).every((st) => st === 'T' || st === 't') ? true : undefined), { what: 'the etcd member to stop', timeoutMs: 5000 });
    for (const [what, dcs] of [['paused', alone]] as const) {
      const started = Date.now();
      await assert.rejects(dcs.leader(), DcsUnavailableError, what);
      assert.ok(Date.now() - started <= 800 + 500, `${what}: ${Date.now() - started} ms`);
    }
    assert.equal(await several.renewLeader('a'), true, 'renewal through the next endpoint');
    assert.equal((await several.leader())?.holder, 'a');

    cluster.signal(follower, 'SIGKILL'); // connection refused
    const started = Date.now();
    await assert.rejects(alone.acquireLeader('b'), DcsUnavailableError);
    assert.ok(Date.now() - started <= 800 + 500, `stopped: ${Date.now() - started} ms`);
    assert.equal(await several.renewLeader('a'), true);
    assert.equal(await several.put('config', { ttl: 2 }, null) !== null, true);
  });
});

/** The scheduler state of every thread of `pid` (R, S, T, ...). */
function procStates(pid: number): string[] {
  return readdirSync(`/proc/${pid}/task`).map((tid) => {
    const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
  });
}
