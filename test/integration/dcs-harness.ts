import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import type { TestContext } from 'node:test';
import type { ContractHarness } from '../../src/ha/dcs/contract.js';
import type { Dcs } from '../../src/ha/dcs/dcs.js';
import { EtcdDcs } from '../../src/ha/dcs/etcd.js';
import { monotonicClock, openLocalDcs } from '../../src/ha/dcs/local.js';
import { parseDcsUrl } from '../../src/ha/dcs/open.js';
import { selfIdentity } from '../../src/ha/dcs/process-identity.js';
import type { EtcdCluster } from './etcd.js';

const CHILD = fileURLToPath(new URL('./dcs-child.js', import.meta.url));

/** The next line `child` prints. */
export function nextLine(child: ChildProcess): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = '';
    const onData = (chunk: Buffer) => {
      text += chunk.toString();
      const end = text.indexOf('\n');
      if (end < 0) return;
      child.stdout!.off('data', onData);
      resolve(text.slice(0, end));
    };
    child.stdout!.on('data', onData);
    child.once('exit', (code) => reject(new Error(`child exited ${code} before printing a line: ${text}`)));
  });
}

/** Kills the child by pid if it still runs, and waits for its exit. */
export async function reap(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGKILL');
  await exited;
}

/** Races `names` for the leader key of the local DCS in `dir`, each from its own process. */
async function raceProcesses(t: TestContext, dir: string, names: readonly string[]): Promise<boolean[]> {
  const children = names.map((name) => spawn(process.execPath, [CHILD, dir, name, '10000'], { stdio: ['pipe', 'pipe', 'inherit'] }));
  t.after(() => Promise.all(children.map(reap)));
  await Promise.all(children.map(async (c) => (await nextLine(c)) === 'ready' || Promise.reject(new Error('child not ready'))));
  const results = children.map(nextLine);
  for (const c of children) c.stdin!.write('go\n');
  return (await Promise.all(results)).map((line) => {
    const parsed = JSON.parse(line) as { won?: boolean; error?: string };
    if (parsed.won === undefined) throw new Error(`racer failed: ${parsed.error}`);
    return parsed.won;
  });
}

/** A fresh local store per case, on a clock the test advances (children race on the real one). */
export async function localHarness(t: TestContext, ttlMs = 2000, timeoutMs = 300): Promise<ContractHarness & { dir: string }> {
  const parent = await mkdtemp(join(tmpdir(), 'pgrepl-dcs-'));
  const dir = join(parent, 'dcs');
  const opened: Dcs[] = [];
  t.after(async () => {
    await Promise.all(opened.map((d) => d.close()));
    await rm(parent, { recursive: true, force: true });
  });
  // Starts at the real clock's reading, so records the racing children write on it are current.
  let now = monotonicClock();
  const clock = () => now;
  return {
    dir,
    timeoutMs,
    async open() {
      const dcs = await openLocalDcs(dir, { ttlMs, timeoutMs, clock });
      opened.push(dcs);
      return dcs;
    },
    async elapse(ms) {
      now += ms;
    },
    now: () => now,
    race: (names) => raceProcesses(t, dir, names),
    async breakStore() {
      // A lock held by a live process (this one, under another acquisition's nonce): a stuck holder.
      const lock = join(dir, 'lock');
      await writeFile(lock, JSON.stringify({ ...selfIdentity(), nonce: 'feedfacefeedface' }), { flag: 'wx' });
      return () => unlink(lock);
    },
  };
}

/** A fresh cluster name per case in one etcd cluster; real time passes. */
export function etcdHarness(t: TestContext, cluster: EtcdCluster, caseIndex: number, timeoutMs = 1000): ContractHarness {
  const clusterName = `case${caseIndex}-${process.pid}`;
  const opened: Dcs[] = [];
  t.after(() => Promise.all(opened.map((d) => d.close())));
  const open = (url = cluster.url()) => {
    const location = parseDcsUrl(url);
    if (location.kind !== 'etcd') throw new Error('not etcd');
    const dcs = new EtcdDcs({ endpoints: location.endpoints, clusterName, ttlMs: 2000, timeoutMs });
    opened.push(dcs);
    return dcs;
  };
  return {
    timeoutMs,
    open: async () => open(),
    elapse: (ms) => sleep(ms),
    now: () => performance.now(),
    race: (names) => Promise.all(names.map((name) => open().acquireLeader(name))),
    async breakStore() {
      for (const i of cluster.members.keys()) cluster.signal(i, 'SIGSTOP');
      return async () => {
        for (const i of cluster.members.keys()) cluster.signal(i, 'SIGCONT');
        await cluster.healthy();
      };
    },
  };
}
