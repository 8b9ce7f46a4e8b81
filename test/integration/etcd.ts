import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, openSync, closeSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { get, request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { waitFor } from '../../src/util/wait.js';
import { freePortBlock } from './fixture.js';

/** The etcd server binary the tests start (Debian's etcd-server), overridable with PGREPL_ETCD. */
export const ETCD_BIN = process.env.PGREPL_ETCD ?? '/usr/bin/etcd';

/** Why etcd tests cannot run here, or null when they can. */
export function etcdMissing(): string | null {
  return existsSync(ETCD_BIN) ? null : `${ETCD_BIN} not found: install Debian's etcd-server (npm run deps does) to run the etcd DCS tests`;
}

export interface EtcdMember {
  readonly name: string;
  readonly clientPort: number;
  readonly child: ChildProcess;
}

export interface EtcdCluster {
  readonly members: readonly EtcdMember[];
  /** `etcd://127.0.0.1:P1,...` for the members at `indices` (all by default). */
  url(indices?: readonly number[]): string;
  /** SIGSTOP / SIGCONT / SIGKILL one member, by its pid. */
  signal(index: number, signal: 'SIGSTOP' | 'SIGCONT' | 'SIGKILL'): void;
  /** The index of the raft leader. */
  leaderIndex(): Promise<number>;
  /** Resolves once every running, unpaused member reports a healthy cluster. */
  healthy(indices?: readonly number[]): Promise<void>;
}

function httpJson(port: number, path: string, body?: object): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    const req = body
      ? request({ host: '127.0.0.1', port, path, method: 'POST', timeout: 1000 })
      : get({ host: '127.0.0.1', port, path, timeout: 1000 });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    req.on('response', (res) => {
      let text = '';
      res.on('data', (chunk: Buffer) => (text += chunk.toString()));
      res.on('end', () => {
        try {
          resolve(JSON.parse(text) as Record<string, unknown>);
        } catch (error) {
          reject(error as Error);
        }
      });
    });
    req.end(body ? JSON.stringify(body) : undefined);
  });
}

/** Where cleanups are registered: a test's context, or a benchmark's list. */
export interface Teardown {
  after(fn: () => Promise<void>): void;
}

/**
 * Starts an etcd cluster of `size` members on loopback, on free ports, in a temp data dir; every
 * member is killed by pid and the dir removed after the test, even when it fails.
 */
export async function startEtcd(t: Teardown, size: number): Promise<EtcdCluster> {
  const dir = await mkdtemp(join(tmpdir(), 'pgrepl-etcd-'));
  const base = await freePortBlock(2 * size);
  const names = Array.from({ length: size }, (_, i) => `e${i}`);
  const peer = (i: number) => `http://127.0.0.1:${base + size + i}`;
  const initialCluster = names.map((name, i) => `${name}=${peer(i)}`).join(',');
  const members: EtcdMember[] = [];
  t.after(async () => {
    await Promise.all(
      members.map(
        (m) =>
          new Promise<void>((resolve) => {
            if (m.child.exitCode !== null || m.child.signalCode !== null) return resolve();
            m.child.once('exit', () => resolve());
            m.child.kill('SIGCONT');
            m.child.kill('SIGKILL');
          }),
      ),
    );
    await rm(dir, { recursive: true, force: true });
  });
  // Only the settings the test gives: no ETCD_* variable of the environment leaks in.
  const env = Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.startsWith('ETCD_')));
  for (const [i, name] of names.entries()) {
    const clientUrl = `http://127.0.0.1:${base + i}`;
    const log = openSync(join(dir, `${name}.log`), 'a');
    const child = spawn(
      ETCD_BIN,
      [
        `--name=${name}`,
        `--data-dir=${join(dir, name)}`,
        `--listen-client-urls=${clientUrl}`,
        `--advertise-client-urls=${clientUrl}`,
        `--listen-peer-urls=${peer(i)}`,
        `--initial-advertise-peer-urls=${peer(i)}`,
        `--initial-cluster=${initialCluster}`,
        '--initial-cluster-state=new',
        `--initial-cluster-token=pgrepl-test-${base}`,
        '--logger=zap',
        '--log-level=warn',
      ],
      { env, stdio: ['ignore', log, log] },
    );
    closeSync(log);
    members.push({ name, clientPort: base + i, child });
  }
  const cluster: EtcdCluster = {
    members,
    url: (indices = members.map((_, i) => i)) => `etcd://${indices.map((i) => `127.0.0.1:${members[i]!.clientPort}`).join(',')}`,
    signal: (index, signal) => void members[index]!.child.kill(signal),
    async leaderIndex() {
      for (const [i, m] of members.entries()) {
        const status = await httpJson(m.clientPort, '/v3/maintenance/status', {}).catch(() => null);
        const header = status?.header as { member_id?: string } | undefined;
        if (status && header?.member_id === status.leader) return i;
      }
      throw new Error('no etcd member reports itself as leader');
    },
    async healthy(indices = members.map((_, i) => i)) {
      for (const i of indices) {
        await waitFor(async () => ((await httpJson(members[i]!.clientPort, '/health').catch(() => null))?.health === 'true' ? true : undefined), {
          what: `etcd member ${members[i]!.name} to be healthy`,
          timeoutMs: 20_000,
          intervalMs: 50,
        });
      }
    },
  };
  try {
    await cluster.healthy();
  } catch (error) {
    const logs = await Promise.all(names.map((name) => readFile(join(dir, `${name}.log`), 'utf8').catch(() => '')));
    throw new Error(`${(error as Error).message}\n${logs.map((l, i) => `--- ${names[i]}\n${l.slice(-2000)}`).join('\n')}`);
  }
  return cluster;
}
