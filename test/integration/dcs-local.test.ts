// What only the local DCS has: its lock's takeover from dead, zombie and reused-pid holders, and
// its fail-closed reading of a damaged leader record.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { readFile, symlink, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { UNKNOWN_HOLDER } from '../../src/ha/dcs/dcs.js';
import { selfIdentity } from '../../src/ha/dcs/process-identity.js';
import { waitFor } from '../../src/util/wait.js';
import { localHarness, nextLine, reap } from './dcs-harness.js';

function stat(pid: number): { state: string; startTime: string } {
  const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  return { state: fields[0]!, startTime: fields[19]! };
}

/** A zombie: a child of a shell that does not reap it until told to (then it does, and exits). */
async function zombie(t: TestContext): Promise<number> {
  const shell = spawn('sh', ['-c', 'sleep 1000 & echo $!; read line; kill $! 2>/dev/null; wait'], { stdio: ['pipe', 'pipe', 'inherit'] });
  t.after(async () => {
    shell.stdin.end('reap\n');
    await waitFor(() => (shell.exitCode !== null || shell.signalCode !== null ? true : undefined), { what: 'the shell to reap its zombie', timeoutMs: 5000 }).catch(() => reap(shell));
  });
  const pid = Number(await nextLine(shell));
  process.kill(pid, 'SIGKILL');
  await waitFor(() => (stat(pid).state === 'Z' ? true : undefined), { what: `pid ${pid} to be a zombie`, timeoutMs: 5000 });
  return pid;
}

/** The pid and start time of a process that has exited and been reaped. */
async function deadProcess(): Promise<{ pid: number; startTime: string }> {
  const child = spawn('sleep', ['1000'], { stdio: 'ignore' });
  const startTime = stat(child.pid!).startTime;
  await reap(child);
  return { pid: child.pid!, startTime };
}

async function plantLock(path: string, owner: { pid: number; startTime: string }, nonce: string): Promise<void> {
  await writeFile(path, JSON.stringify({ pid: owner.pid, startTime: owner.startTime, nonce }), { flag: 'wx' });
}

test('local DCS: a lock held by a dead, a zombie or a reused pid is taken over at once', async (t) => {
  const h = await localHarness(t);
  const dcs = await h.open();
  const lock = join(h.dir, 'lock');
  const holders = {
    dead: await deadProcess(),
    zombie: { pid: await zombie(t), startTime: '' },
    'reused pid': { pid: process.pid, startTime: `${selfIdentity().startTime}0` },
  };
  holders.zombie.startTime = stat(holders.zombie.pid).startTime;
  for (const [kind, owner] of Object.entries(holders)) {
    await plantLock(lock, owner, '0123456789abcdef');
    const started = Date.now();
    assert.ok((await dcs.put('config', { kind })) !== null, kind);
    assert.ok(Date.now() - started < h.timeoutMs, `${kind}: took ${Date.now() - started} ms`);
    await assert.rejects(readFile(lock), { code: 'ENOENT' }, `${kind}: the lock is released after use`);
  }
});

test('local DCS: a takeover marker left by a taker that died is itself taken over', async (t) => {
  const h = await localHarness(t);
  const dcs = await h.open();
  const dead = await deadProcess();
  await plantLock(join(h.dir, 'lock'), dead, '0123456789abcdef');
  await plantLock(join(h.dir, 'lock.takeover-0123456789abcdef'), dead, 'fedcba9876543210');
  assert.equal(await dcs.acquireLeader('pg1'), true);
});

test('local DCS: a lock held by a live process is never taken: DcsUnavailableError at the deadline', async (t) => {
  const h = await localHarness(t);
  const dcs = await h.open();
  const sleeper = spawn('sleep', ['1000'], { stdio: 'ignore' });
  t.after(() => reap(sleeper));
  process.kill(sleeper.pid!, 'SIGSTOP'); // stopped is still alive: it could resume mid-write
  await plantLock(join(h.dir, 'lock'), { pid: sleeper.pid!, startTime: stat(sleeper.pid!).startTime }, '0123456789abcdef');
  await assert.rejects(dcs.acquireLeader('pg1'), { name: 'DcsUnavailableError', message: /stayed held for 300 ms/ });
  assert.equal(await dcs.leader(), null);
});

test('local DCS: an unreadable leader record is held by nobody who can renew it, for a TTL from when it was first seen', async (t) => {
  const h = await localHarness(t);
  const [a, b] = [await h.open(), await h.open()];
  assert.equal(await a.acquireLeader('pg1'), true);
  const leader = join(h.dir, 'leader');
  await writeFile(leader, '{"holder": "pg1", "expiresAt": "garbage"');
  await h.elapse(a.ttlMs / 2);
  assert.equal((await b.leader())?.holder, UNKNOWN_HOLDER, 'seen damaged: held from now');
  assert.equal(await a.renewLeader('pg1'), false, 'its holder cannot prove it still holds it');
  assert.equal(await b.acquireLeader('pg2'), false);
  await h.elapse(a.ttlMs - 10);
  assert.equal(await b.acquireLeader('pg2'), false, 'a TTL from first sight has not passed');
  await h.elapse(20);
  assert.equal(await b.leader(), null);
  assert.equal(await b.acquireLeader('pg2'), true);
  assert.equal((await a.leader())?.holder, 'pg2');
});

test('local DCS: a symlink in place of a record is not followed, and a record of an earlier boot has expired', async (t) => {
  const h = await localHarness(t);
  const dcs = await h.open();
  const target = join(h.dir, '..', 'elsewhere');
  await writeFile(target, JSON.stringify({ holder: 'mallory', expiresAt: Number.MAX_SAFE_INTEGER, boot: 'x' }));
  await symlink(target, join(h.dir, 'leader'));
  assert.equal((await dcs.leader())?.holder, UNKNOWN_HOLDER);
  await h.elapse(dcs.ttlMs + 1);
  assert.equal(await dcs.acquireLeader('pg1'), true);
  assert.match(await readFile(target, 'utf8'), /mallory/, 'the link target is untouched');

  const bootId = readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
  await writeFile(join(h.dir, 'leader'), JSON.stringify({ holder: 'pg9', expiresAt: Number.MAX_SAFE_INTEGER, boot: `${bootId}-earlier` }));
  assert.equal(await dcs.leader(), null);
  await writeFile(join(h.dir, 'members', 'pg9'), JSON.stringify({ name: 'pg9', state: {}, expiresAt: Number.MAX_SAFE_INTEGER, boot: 'earlier' }));
  assert.deepEqual(await dcs.members(), []);
});

// Review F4: the damaged record's expiry is judged on the shared monotonic clock, not its mtime
// (wall-clock time): an mtime an hour back, as after a one-hour step, frees nothing.
test('local DCS: a wall-clock step does not free a damaged leader record its holder may still act on', async (t) => {
  const h = await localHarness(t);
  const [a, b] = [await h.open(), await h.open()];
  assert.equal(await a.acquireLeader('pg1'), true); // pg1 may act as leader for a TTL from here
  const leader = join(h.dir, 'leader');
  await writeFile(leader, '{"holder": "pg1", "expiresAt": "garbage"');
  const stepped = new Date(Date.now() - 3_600_000);
  await utimes(leader, stepped, stepped);
  assert.equal(await b.acquireLeader('pg2'), false, 'taken while pg1 may still act as leader');
});
