import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { findBinaries } from '../../src/pg/binaries.js';
import { signRequest } from '../../src/ha/peer-auth.js';
import { waitFor } from '../../src/util/wait.js';
import { clusterDir, freePortBlock, pgrepl, pgreplJson, psql } from './fixture.js';
import { haStatus, nodeProcesses, settled, type HaNode } from './ha-fixture.js';

/** POSTs a failsafe request for `leader` to `node`'s agent with `authorization` (none when undefined). */
async function askFailsafe(node: HaNode, leader: string, authorization?: (body: string) => string): Promise<number> {
  const body = JSON.stringify({ leader });
  const response = await fetch(`${node.agent!.url}/failsafe`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(authorization ? { authorization: authorization(body) } : {}) },
    body,
    signal: AbortSignal.timeout(5000),
  });
  await response.arrayBuffer();
  return response.status;
}

test("HA: POST /failsafe takes only a request signed with the cluster's agent API key; forged ones cannot hold a replica back from failover", async (t) => {
  const { bindir } = await findBinaries();
  const dir = await clusterDir(t);
  const port = await freePortBlock(4);
  const up = await pgrepl(['up', '--dir', dir, '--replicas', '1', '--port', String(port), '--ha', '--api-port', String(port + 2), '--json']);
  assert.equal(up.code, 0, up.stderr);
  const keyFile = join(dir, 'secrets', 'agent-api.key');
  assert.equal((await stat(keyFile)).mode & 0o777, 0o600, 'the key file is 0600');
  const hex = (await readFile(keyFile, 'utf8')).trim();
  assert.match(hex, /^[0-9a-f]{64}$/);
  const key = Buffer.from(hex, 'hex');

  const first = await settled(dir, 'the HA cluster to settle');
  assert.equal(first.leader, 'pg1');
  const pg2 = first.nodes.find((n) => n.name === 'pg2')!;
  const signed = (k: Buffer) => (body: string) => signRequest(k, { method: 'POST', path: '/failsafe', to: 'pg2', body });

  assert.equal(await askFailsafe(pg2, 'pg1'), 401, 'no credentials');
  assert.equal(await askFailsafe(pg2, 'pg1', () => `Bearer ${hex}`), 401, 'the key itself as a bearer token');
  assert.equal(await askFailsafe(pg2, 'pg1', signed(randomBytes(32))), 403, 'signed with another key');
  assert.equal(await askFailsafe(pg2, 'pg1', (body) => signRequest(key, { method: 'POST', path: '/failsafe', to: 'pg1', body })), 403, 'signed for another node');
  assert.equal((await fetch(`${pg2.agent!.url}/health`)).status, 200, 'GET stays open');
  const good = signed(key)(JSON.stringify({ leader: 'pg1' }));
  assert.equal(await askFailsafe(pg2, 'pg1', () => good), 200, 'signed with the cluster key');
  assert.equal(await askFailsafe(pg2, 'pg1', () => good), 403, 'the same signed request again');

  // The attack: forged failsafe requests for pg1 sent to pg2 all along while pg1 dies. Each is
  // refused, so pg2 takes over once the lease lapses; had one been granted, pg2 would have held
  // back for a TTL after it, and with one every 100 ms, forever.
  const forged: number[] = [];
  let attacking = true;
  const attack = (async () => {
    const until = Date.now() + 60_000;
    while (attacking && Date.now() < until) {
      forged.push(await askFailsafe(pg2, 'pg1', forged.length % 2 === 0 ? undefined : signed(randomBytes(32))).catch(() => 0));
      await new Promise((r) => setTimeout(r, 100));
    }
  })();
  try {
    for (const pid of await nodeProcesses(dir, 'pg1')) process.kill(pid, 'SIGKILL');
    await waitFor(async () => ((await haStatus(dir)).leader === 'pg2' ? true : undefined), { what: 'pg2 to take over under forged failsafe requests', timeoutMs: 30_000, intervalMs: 200 });
  } finally {
    attacking = false;
    await attack;
  }
  assert.ok(forged.length >= 5, `forged requests were sent throughout (${forged.length})`);
  assert.deepEqual([...new Set(forged)].sort(), [401, 403], 'every forged request was refused');
  const url = (await pgreplJson<{ url: string }>(['url', 'pg2', '--dir', dir])).url;
  await psql(bindir, url, 'CREATE TABLE after_takeover (id int)');

  const log = await readFile(join(dir, 'agents', 'pg2.log'), 'utf8');
  for (const cause of ['no credentials', 'malformed credentials', 'wrong signature', 'replayed']) {
    assert.equal(log.split('\n').filter((l) => l.includes(`refused POST /failsafe`) && l.includes(`: ${cause} (`)).length, 1, `one log line for '${cause}'`);
  }
  // The key is nowhere but in its file.
  const status = await pgrepl(['status', '--dir', dir, '--json']);
  const places: Array<[string, string]> = [
    ['pgrepl.yaml', await readFile(join(dir, 'pgrepl.yaml'), 'utf8')],
    ['up --json', up.stdout + up.stderr],
    ['status --json', status.stdout],
    ["pg2's agent log", log],
  ];
  const agentPid = Number((await readFile(join(dir, 'agents', 'pg2.pid'), 'utf8')).trim());
  places.push(["pg2's agent argv", await readFile(`/proc/${agentPid}/cmdline`, 'utf8')]);
  places.push(["pg2's agent environment", await readFile(`/proc/${agentPid}/environ`, 'utf8')]);
  for (const [where, text] of places) assert.ok(!text.includes(hex), `the agent API key appears in ${where}`);
});
