import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { waitFor } from '../../src/util/wait.js';
import { freePortBlock, pgreplJson, superuserPassword } from './fixture.js';
import { assertAckedAt, haCluster, haStatus, nodeProcesses, settled } from './ha-fixture.js';
import { haproxyMissing, startHaproxy, type Haproxy } from './haproxy.js';
import { Writer } from './writer.js';

/** Samples HAProxy's view of its servers until stopped (at most `maxMs`): which were UP, and when. */
function watchServers(haproxy: Haproxy, maxMs: number): { stop: () => Promise<Array<{ at: number; up: string[] }>> } {
  const samples: Array<{ at: number; up: string[] }> = [];
  let stopped = false;
  const deadline = Date.now() + maxMs;
  const loop = (async () => {
    while (!stopped && Date.now() < deadline) {
      const up = await haproxy.upServers().catch(() => null);
      if (up) samples.push({ at: Date.now(), up });
      await sleep(20);
    }
  })();
  return { stop: async () => ((stopped = true), await loop, samples) };
}

test('HA behind HAProxy: a writer that knows only HAProxy\'s port loses no acknowledged write across a node crash, and never two servers are UP', { skip: haproxyMissing() ?? false }, async (t) => {
  const { bindir, dir } = await haCluster(t, []);
  const first = await settled(dir, 'the HA cluster to settle');
  const backends = first.nodes.map((n) => {
    const api = new URL(n.agent!.url);
    return { name: n.name, host: api.hostname, port: n.port, apiPort: Number(api.port) };
  });
  const listen = await freePortBlock(1);
  const haproxy = await startHaproxy(t, listen, backends);
  await waitFor(async () => ((await haproxy.upServers()).join() === first.leader ? true : undefined), { what: `HAProxy to see only ${first.leader} UP`, timeoutMs: 10_000, intervalMs: 20 });

  const watch = watchServers(haproxy, 90_000);
  const writer = new Writer([listen], await superuserPassword(dir), 'writes', 60_000, 200_000, 1, 1000);
  let samples: Array<{ at: number; up: string[] }> = [];
  let killedAt = 0;
  let leader: string;
  try {
    writer.start();
    await waitFor(() => (writer.acked.length >= 50 ? true : undefined), { what: 'the writer to get going through HAProxy', timeoutMs: 10_000 });
    // A node crash: the agent, the postmaster and its backends together.
    const pids = await nodeProcesses(dir, first.leader!);
    killedAt = Date.now();
    for (const pid of pids) process.kill(pid, 'SIGKILL');
    const before = writer.acked.length;
    await waitFor(() => (writer.acked.length >= before + 50 && writer.ackedAt.at(-1)!.at > killedAt ? true : undefined), { what: 'writes through HAProxy on a new primary', timeoutMs: 30_000 });
    leader = (await waitFor(async () => {
      const s = await haStatus(dir);
      return s.leader !== null && s.leader !== first.leader ? s : undefined;
    }, { what: 'a new leader', timeoutMs: 20_000 })).leader!;
    await waitFor(async () => ((await haproxy.upServers()).join() === leader ? true : undefined), { what: `HAProxy to see only ${leader} UP`, timeoutMs: 10_000, intervalMs: 20 });
  } finally {
    await writer.stop();
    samples = await watch.stop();
  }
  assert.ok(samples.length >= 20, `too few samples of HAProxy's view (${samples.length})`);
  const double = samples.find((s) => s.up.length > 1);
  assert.equal(double, undefined, `HAProxy had two servers UP at once: ${double?.up.join(', ')}`);
  const down = samples.find((s) => s.at > killedAt && s.up.length === 0);
  assert.ok(down, 'HAProxy marked the crashed primary down before the new one came up');
  // Acknowledgements in flight when the kill landed are not the new primary's: count from the moment HAProxy had no server.
  const resumed = writer.ackedAt.find((a) => a.at > down.at)!.at;
  t.diagnostic(`node crash to the first write acknowledged through HAProxy by the new primary: ${resumed - killedAt} ms (HAProxy saw no server UP ${down.at - killedAt} ms after the crash; ${samples.length} samples of its view)`);
  const url = (await pgreplJson<{ url: string }>(['url', leader, '--dir', dir])).url;
  await assertAckedAt(bindir, url, leader, writer.acked);
});
