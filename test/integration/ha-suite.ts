import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { waitFor } from '../../src/util/wait.js';
import { nodePid, pgreplJson, psql, superuserPassword } from './fixture.js';
import { Writer } from './writer.js';
import { etcdMissing, startEtcd } from './etcd.js';
import { explainedByAgents, haCluster, haStatus, nodeProcesses, type HaNode, type HaStatus } from './ha-fixture.js';

const status = haStatus;

/** Waits until the agents report `leader` holding the lease and every other node streaming from it. */
async function settled(dir: string, what: string, leaderOtherThan?: string): Promise<HaStatus> {
  return waitFor(async () => {
    const s = await status(dir);
    const ok = s.leader !== null && s.leader !== leaderOtherThan && s.nodes.every((n) => (n.name === s.leader ? n.role === 'primary' : n.state === 'streaming'));
    return ok ? s : undefined;
  }, { what, timeoutMs: 60_000, intervalMs: 100 });
}

async function startWriter(dir: string, port: number, firstId: number): Promise<Writer> {
  // A frozen primary holds a query forever: the writer gives up after 1 s, as a pool would.
  const writer = new Writer([port, port + 1, port + 2], await superuserPassword(dir), 'writes', 60_000, 200_000, firstId, 1000);
  writer.start();
  await waitFor(() => (writer.acked.length >= 50 ? true : undefined), { what: 'the writer to get going', timeoutMs: 10_000 });
  return writer;
}

async function assertAllAcked(bindir: string, dir: string, node: string, acked: readonly number[]): Promise<void> {
  assert.ok(acked.length > 0, 'the writer got no commit acknowledged at all');
  const url = (await pgreplJson<{ url: string }>(['url', node, '--dir', dir])).url;
  const present = await psql(bindir, url, `SELECT count(*) FROM writes WHERE id = ANY('{${acked.join(',')}}'::int[])`);
  assert.equal(Number(present), acked.length, `acknowledged writes missing on ${node}`);
}

/** The HA suite against one DCS backend; one test file per backend, so the two run in parallel. */
export function haSuite(backend: 'local' | 'etcd'): void {
const skip = backend === 'etcd' ? etcdMissing() ?? false : false;
test(`HA (${backend} DCS): agents fail over by themselves in synchronous mode; a crashed postmaster restarts in place; no acknowledged write lost`, { skip }, async (t) => {
  const etcd = backend === 'etcd' ? await startEtcd(t, 1) : null;
  const { bindir, dir, port } = await haCluster(t, etcd ? ['--dcs', etcd.url()] : []);
  const first = await settled(dir, 'the HA cluster to settle');
  assert.equal(first.leader, 'pg1');
  assert.equal(first.paused, false);
  for (const n of first.nodes) assert.equal(n.agent?.healthy, true, `${n.name}'s agent is healthy`);
  const health = async (node: HaNode, check: string): Promise<number> => (await fetch(`${node.agent!.url}/${check}`)).status;
  assert.deepEqual(await Promise.all(first.nodes.map((n) => health(n, 'primary'))), [200, 503, 503]);
  assert.deepEqual(await Promise.all(first.nodes.map((n) => health(n, 'replica'))), [503, 200, 200]);

  await t.test('SIGKILL of the postmaster: restarted in place, same leader', () => explainedByAgents(dir, async () => {
    const writer = await startWriter(dir, port, 1);
    try {
      process.kill(await nodePid(dir, 'pg1'), 'SIGKILL');
      const before = writer.acked.length;
      await waitFor(() => (writer.acked.length >= before + 50 ? true : undefined), { what: 'writes after the crash', timeoutMs: 20_000 });
    } finally {
      await writer.stop();
    }
    const after = await settled(dir, 'the cluster to settle after the crash');
    const log = await readFile(join(dir, 'agents', 'pg1.log'), 'utf8');
    assert.match(log, /the primary crashed: restarting it in place/, 'the agent restarted its crashed postmaster in place');
    // On a quiet machine the lease stays with pg1; on a starved one (a restart outlasting the lease)
    // a replica may take over instead, which is correct too: what must hold is that no write is lost.
    await assertAllAcked(bindir, dir, after.leader!, writer.acked);
  }));

  await t.test('only the agent dies: its primary keeps running and nobody is promoted beside it', () => explainedByAgents(dir, async () => {
    const leader = (await status(dir)).leader!;
    process.kill(Number((await readFile(join(dir, 'agents', `${leader}.pid`), 'utf8')).trim()), 'SIGKILL');
    // Three lease TTLs: the lease lapses, and every replica's agent must hold back.
    const until = Date.now() + 6000;
    await waitFor(() => (Date.now() >= until ? true : undefined), { what: 'three lease TTLs', timeoutMs: 8000, intervalMs: 50 });
    const s = await status(dir);
    assert.equal(s.nodes.filter((n) => n.role === 'primary' || n.state === 'promoted').length, 1, 'one primary');
    assert.notEqual(s.leader !== null && s.leader !== leader, true, 'no other node took the lease');
    assert.match(s.nodes.find((n) => n.name !== leader)!.agent!.reason ?? '', new RegExp(`${leader} still accepts SQL`));
    await pgreplJson(['up', '--dir', dir]); // restarts the agent, which takes the lease back
    assert.equal((await settled(dir, 'the agent to take its lease back')).leader, leader);
  }));

  await t.test('node crash (agent, postmaster and backends SIGKILLed): a replica takes over', () => explainedByAgents(dir, async () => {
    const writer = await startWriter(dir, port, 1_000_000);
    let after: HaStatus;
    try {
      for (const pid of await nodeProcesses(dir, 'pg1')) process.kill(pid, 'SIGKILL');
      const before = writer.acked.length;
      await waitFor(() => (writer.acked.length >= before + 50 ? true : undefined), { what: 'writes on a new primary', timeoutMs: 20_000 });
      after = await waitFor(async () => {
        const s = await status(dir);
        return s.leader !== null && s.leader !== 'pg1' ? s : undefined;
      }, { what: 'a new leader', timeoutMs: 20_000 });
    } finally {
      await writer.stop();
    }
    await assertAllAcked(bindir, dir, after.leader!, writer.acked);
    // The old primary comes back with `up`: its agent rewinds it into a replica of the new leader.
    await pgreplJson(['up', '--dir', dir]);
    const back = await settled(dir, 'pg1 to rejoin as a replica');
    assert.equal(back.nodes.find((n) => n.name === 'pg1')!.role, 'replica');
    await assertAllAcked(bindir, dir, 'pg1', writer.acked);
  }));

  await t.test('switchover through the agents under a writer loses no acknowledged write', () => explainedByAgents(dir, async () => {
    const from = (await status(dir)).leader!;
    const writer = await startWriter(dir, port, 2_000_000);
    let result: { from: string; to: string; viaAgents: boolean };
    try {
      result = await pgreplJson(['switchover', '--dir', dir]);
      const before = writer.acked.length;
      await waitFor(() => (writer.acked.length >= before + 50 ? true : undefined), { what: 'writes after the switchover', timeoutMs: 20_000 });
    } finally {
      await writer.stop();
    }
    assert.equal(result.from, from);
    assert.equal(result.viaAgents, true);
    const after = await settled(dir, 'the cluster to settle after the switchover', from);
    assert.equal(after.leader, result.to);
    assert.equal(after.nodes.find((n) => n.name === from)!.state, 'streaming', 'the old primary streams from the new one');
    await assertAllAcked(bindir, dir, result.to, writer.acked);
  }));

  await t.test('SIGSTOP of a whole node past the lease TTL: another takes over, the frozen one fences itself on SIGCONT', () => explainedByAgents(dir, async () => {
    const frozen = (await status(dir)).leader!;
    const frozenPort = (await status(dir)).nodes.find((n) => n.name === frozen)!.port;
    const writer = await startWriter(dir, port, 3_000_000);
    const pids = await nodeProcesses(dir, frozen);
    let newLeader: string;
    try {
      for (const pid of pids) process.kill(pid, 'SIGSTOP');
      newLeader = (await waitFor(async () => {
        const s = await status(dir);
        return s.leader !== null && s.leader !== frozen ? s : undefined;
      }, { what: 'a new leader while the old one is frozen', timeoutMs: 20_000 })).leader!;
      const before = writer.acked.length;
      await waitFor(() => (writer.acked.length >= before + 50 ? true : undefined), { what: 'writes on the new leader', timeoutMs: 20_000 });
    } finally {
      for (const pid of pids) process.kill(pid, 'SIGCONT');
    }
    try {
      // Thawed, the old primary must acknowledge no write: its agent fences it (and under the
      // quorum no commit could be acknowledged there anyway). Probed for a while with fresh sessions.
      const probe = new Writer([frozenPort], await superuserPassword(dir), 'writes', 3000, 1_000, 4_000_000, 1000);
      probe.start();
      await probe.stop();
      assert.deepEqual(probe.acked, [], `the thawed old primary ${frozen} acknowledged writes`);
    } finally {
      await writer.stop();
    }
    const back = await settled(dir, `${frozen} to rejoin as a replica`);
    assert.equal(back.leader, newLeader);
    assert.equal(back.nodes.find((n) => n.name === frozen)!.role, 'replica');
    await assertAllAcked(bindir, dir, newLeader, writer.acked);
    await assertAllAcked(bindir, dir, frozen, writer.acked);
  }));

  if (etcd) {
    await t.test('etcd unreachable past the TTL: the primary keeps running in failsafe mode, every replica agreeing', () => explainedByAgents(dir, async () => {
      const leader = (await status(dir)).leader!;
      const writer = await startWriter(dir, port, 5_000_000);
      try {
        etcd.signal(0, 'SIGSTOP');
        try {
          // Four TTLs without the DCS: without failsafe the primary would have fenced itself.
          const until = Date.now() + 8000;
          await waitFor(() => (Date.now() >= until ? true : undefined), { what: 'the etcd outage to last 8 s', timeoutMs: 10_000, intervalMs: 50 });
        } finally {
          etcd.signal(0, 'SIGCONT');
        }
        const before = writer.acked.length;
        await waitFor(() => (writer.acked.length >= before + 50 ? true : undefined), { what: 'writes after the outage', timeoutMs: 20_000 });
      } finally {
        await writer.stop();
      }
      const gaps = writer.ackedAt.map((a, i) => (i === 0 ? 0 : a.at - writer.ackedAt[i - 1]!.at));
      assert.ok(Math.max(...gaps) < 5000, `writes went on through the outage (longest gap ${Math.max(...gaps)} ms)`);
      const after = await settled(dir, 'the cluster after the etcd outage');
      assert.equal(after.leader, leader, 'the same primary leads');
      await assertAllAcked(bindir, dir, leader, writer.acked);
    }));
  }
});
}
