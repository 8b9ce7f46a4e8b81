import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { OsUser } from '../src/pg/os-user.js';
import { readSpec } from '../src/spec/file.js';
import { openDcs } from '../src/ha/dcs/open.js';
import { superuserPassword } from '../test/integration/fixture.js';
import { haStatus, type HaStatus } from '../test/integration/ha-fixture.js';
import { etcdMissing, startEtcd } from '../test/integration/etcd.js';
import { pgrepl, withCluster } from './util.js';
import { createTable } from './writes.js';

export type DcsKind = 'local' | 'etcd';

/** A running `up --replicas 2 --sync 1 --ha` cluster with an empty `writes` table. */
export interface HaBench {
  readonly dir: string;
  readonly ports: readonly number[];
  readonly password: string;
  readonly dcs: DcsKind;
}

/** Why the etcd rows cannot run here, or null. */
export const etcdSkip = etcdMissing;

/**
 * A 3-node synchronous (ANY 1) HA cluster with its agents, on the local DCS or a one-member etcd
 * started for it; everything it started (agents, servers, etcd) is stopped by pid afterwards.
 */
export async function withHaCluster<T>(user: OsUser, dcs: DcsKind, use: (c: HaBench) => Promise<T>): Promise<T> {
  const teardowns: Array<() => Promise<void>> = [];
  try {
    const etcd = dcs === 'etcd' ? await startEtcd({ after: (fn) => void teardowns.push(fn) }, 1) : null;
    const args = (port: number): string[] => ['--replicas', '2', '--sync', '1', '--ha', '--api-port', String(port + 3), ...(etcd ? ['--dcs', etcd.url()] : [])];
    return await withCluster(user, args, async (dir, port) => {
      const password = await superuserPassword(dir);
      await createTable(port, password);
      const c: HaBench = { dir, ports: [port, port + 1, port + 2], password, dcs };
      try {
        await settled(c);
        return await use(c);
      } catch (error) {
        // The agents' logs say why; they go with the cluster directory.
        for (const l of await agentLines(dir, 0).catch(() => [])) process.stderr.write(`  ${new Date(l.at).toISOString()} ${l.node}: ${l.text}\n`);
        throw error;
      }
    }, 6);
  } finally {
    for (const fn of teardowns.reverse()) await fn().catch(() => undefined);
  }
}

/** Waits (60 s at most) for one leader (not `notLeader`) and every other node streaming. */
export async function settled(c: HaBench, notLeader?: string): Promise<HaStatus> {
  const deadline = Date.now() + 60_000;
  let last: HaStatus | undefined;
  while (Date.now() < deadline) {
    last = await haStatus(c.dir).catch(() => undefined);
    const ok = last && last.leader !== null && last.leader !== notLeader && last.nodes.every((n) => (n.name === last!.leader ? n.role === 'primary' : n.state === 'streaming'));
    if (ok) return last!;
    await sleep(200);
  }
  throw new Error(`the HA cluster did not settle within 60 s: ${JSON.stringify(last)}`);
}

export function portOf(c: HaBench, node: string): number {
  return c.ports[Number(node.slice(2)) - 1]!;
}

export interface LeaseSample {
  readonly at: number;
  readonly holder: string | null;
  readonly expiresInMs: number | undefined;
}

/**
 * Reads the leader key every `everyMs` as another DCS client would, recording who held it when, so
 * a takeover can be split into lease expiry and acquisition. Stop it with the returned function.
 */
export async function watchLease(c: HaBench, everyMs = 10): Promise<{ samples: LeaseSample[]; stop: () => Promise<void> }> {
  const spec = await readSpec(join(c.dir, 'pgrepl.yaml'));
  const ha = spec.ha!;
  const dcs = await openDcs(ha.dcs, { clusterDir: c.dir, clusterName: ha.scope, ttlMs: ha.ttlMs, timeoutMs: ha.retryTimeoutMs });
  const samples: LeaseSample[] = [];
  let stopped = false;
  const loop = (async () => {
    while (!stopped) {
      const record = await dcs.leader().catch(() => undefined);
      if (record !== undefined) samples.push({ at: Date.now(), holder: record?.holder ?? null, expiresInMs: record?.expiresInMs });
      await sleep(everyMs);
    }
  })();
  return {
    samples,
    stop: async () => {
      stopped = true;
      await loop;
      await dcs.close();
    },
  };
}

export interface AgentLine {
  readonly at: number;
  readonly node: string;
  readonly text: string;
}

/** The agents' log lines (DIR/agents/NODE.log: `ISO-TIME NODE: text`) at or after `since`. */
export async function agentLines(dir: string, since: number): Promise<AgentLine[]> {
  const lines: AgentLine[] = [];
  for (const file of (await readdir(join(dir, 'agents'))).filter((f) => f.endsWith('.log'))) {
    for (const line of (await readFile(join(dir, 'agents', file), 'utf8')).split('\n')) {
      const m = /^(\S+Z) (\w+): (.*)$/.exec(line);
      const at = m ? Date.parse(m[1]!) : NaN;
      if (m && at >= since) lines.push({ at, node: m[2]!, text: m[3]! });
    }
  }
  return lines.sort((a, b) => a.at - b.at);
}

/**
 * From a node's PostgreSQL log (`%m` prefix, UTC): when a postmaster started and when it accepted
 * connections, at or after `since`. The crash-restart breakdown reads them.
 */
export async function serverStarts(dir: string, node: string, since: number): Promise<{ started: number | null; ready: number | null }> {
  const text = await readFile(join(dir, 'nodes', node, 'postgres.log'), 'utf8').catch(() => '');
  let started: number | null = null;
  let ready: number | null = null;
  for (const line of text.split('\n')) {
    const m = /^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}) UTC /.exec(line);
    const at = m ? Date.parse(`${m[1]!.replace(' ', 'T')}Z`) : NaN;
    if (!(at >= since)) continue;
    if (started === null && line.includes('starting PostgreSQL')) started = at;
    if (started !== null && ready === null && line.includes('database system is ready to accept connections')) ready = at;
  }
  return { started, ready };
}
