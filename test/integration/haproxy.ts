import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { waitFor } from '../../src/util/wait.js';

/** The HAProxy binary the test starts (Debian's haproxy), overridable with PGREPL_HAPROXY. */
export const HAPROXY_BIN = process.env.PGREPL_HAPROXY ?? '/usr/sbin/haproxy';

/** Why the HAProxy test cannot run here, or null when it can. */
export function haproxyMissing(): string | null {
  return existsSync(HAPROXY_BIN) ? null : `${HAPROXY_BIN} not found: install Debian's haproxy (npm run deps does) to run the HAProxy test`;
}

export interface Backend {
  readonly name: string;
  readonly host: string;
  readonly port: number;
  /** The port of the node's agent API, which HAProxy asks GET /primary. */
  readonly apiPort: number;
}

/**
 * The configuration the README documents: one TCP frontend, every node a server checked over HTTP
 * on its agent's port; only the node answering 200 on /primary gets connections, and sessions to a
 * node marked down are cut so clients reconnect to the new primary.
 */
export function haproxyConfig(listenPort: number, statsSocket: string, backends: readonly Backend[]): string {
  return [
    'global',
    '    maxconn 200',
    `    stats socket ${statsSocket} mode 600 level admin`,
    'defaults',
    '    mode tcp',
    '    timeout connect 1s',
    '    timeout client 30m',
    '    timeout server 30m',
    '    timeout check 500ms',
    'listen postgres_primary',
    `    bind 127.0.0.1:${listenPort}`,
    '    option httpchk GET /primary',
    '    http-check expect status 200',
    '    default-server inter 100ms fall 1 rise 1 on-marked-down shutdown-sessions',
    ...backends.map((b) => `    server ${b.name} ${b.host}:${b.port} check port ${b.apiPort}`),
    '',
  ].join('\n');
}

export interface Haproxy {
  readonly child: ChildProcess;
  /** Names of the servers HAProxy counts UP right now (from `show stat` on the stats socket). */
  upServers(): Promise<string[]>;
}

/** Sends one command to the stats socket and returns the whole answer. */
function statsCommand(socket: string, command: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const conn = createConnection({ path: socket });
    let text = '';
    conn.setTimeout(2000, () => conn.destroy(new Error(`no answer to '${command}' on ${socket}`)));
    conn.on('data', (chunk: Buffer) => (text += chunk.toString()));
    conn.on('end', () => resolve(text));
    conn.on('error', reject);
    conn.end(`${command}\n`);
  });
}

/** Parses `show stat` CSV: servers (not FRONTEND/BACKEND rows) whose status is UP. */
export function upFromStat(csv: string): string[] {
  const lines = csv.split('\n').filter(Boolean);
  const header = lines[0]!.replace(/^# /, '').split(',');
  const [sv, status] = [header.indexOf('svname'), header.indexOf('status')];
  return lines.slice(1).map((l) => l.split(',')).filter((f) => f[sv] !== 'FRONTEND' && f[sv] !== 'BACKEND' && f[status]!.startsWith('UP')).map((f) => f[sv]!);
}

/**
 * Starts HAProxy in the foreground (-db) with a generated configuration in a temp dir; it is killed
 * by pid and the dir removed after the test, even when it fails.
 */
export async function startHaproxy(t: TestContext, listenPort: number, backends: readonly Backend[]): Promise<Haproxy> {
  const dir = await mkdtemp(join(tmpdir(), 'pgrepl-haproxy-'));
  const socket = join(dir, 'stats.sock');
  const config = join(dir, 'haproxy.cfg');
  await writeFile(config, haproxyConfig(listenPort, socket, backends));
  const child = spawn(HAPROXY_BIN, ['-db', '-f', config], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-4000)));
  t.after(async () => {
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGKILL');
      await exited;
    }
    await rm(dir, { recursive: true, force: true });
  });
  const haproxy: Haproxy = { child, upServers: async () => upFromStat(await statsCommand(socket, 'show stat')) };
  await waitFor(async () => {
    if (child.exitCode !== null) throw new Error(`haproxy exited ${child.exitCode}: ${stderr}\n${await readFile(config, 'utf8')}`);
    return (await haproxy.upServers().catch(() => null)) ?? undefined;
  }, { what: 'haproxy to answer on its stats socket', timeoutMs: 10_000, intervalMs: 20 });
  return haproxy;
}
