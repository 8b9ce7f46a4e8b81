import { spawn } from 'node:child_process';
import { chmod, chown, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { OsUser } from '../src/pg/os-user.js';
import { findFreeBlock } from '../src/util/ports.js';
import { killAgentsUnder, killServersUnder } from '../test/integration/fixture.js';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
export const CLI = join(ROOT, 'dist/pgrepl.cjs');
export const RUNS = Number(process.env.BENCH_RUNS ?? 5);

export interface Ran {
  readonly seconds: number;
  readonly stdout: string;
}

/** Runs a program to completion (as `user` when given and switching), timing it. */
export function run(file: string, args: readonly string[], user?: OsUser): Promise<Ran> {
  const started = process.hrtime.bigint();
  return new Promise((res, rej) => {
    const child = spawn(file, args, {
      stdio: ['ignore', 'pipe', 'pipe'],
      ...(user?.switchTo ? { uid: user.uid, gid: user.gid, env: { PATH: process.env.PATH, HOME: user.home } } : {}),
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.once('exit', (code) => {
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      if (code === 0) res({ seconds, stdout });
      else rej(new Error(`${file} ${args.join(' ')} exited ${code}: ${stderr.slice(-800)}`));
    });
  });
}

export function pgrepl(args: readonly string[]): Promise<Ran> {
  return run(process.execPath, [CLI, ...args]);
}

export const median = (xs: readonly number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
};

/** A temp dir the PostgreSQL OS user owns; removed by the caller. */
export async function scratch(user: OsUser): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'pgrepl-bench-'));
  await chmod(dir, 0o755);
  if (user.switchTo) await chown(dir, user.uid, user.gid);
  return dir;
}

/** The first of `count` consecutive free ports from a random base. */
export function freePort(count = 3): Promise<number> {
  return findFreeBlock(count, 20000 + Math.floor(Math.random() * 12000)); // below the ephemeral range
}

/** Stops, by the pids in their postmaster.pid files, servers a benchmark started under `work`. */
export async function killServers(dataDirs: readonly string[]): Promise<void> {
  for (const dir of dataDirs) {
    const pid = Number((await readFile(join(dir, 'postmaster.pid'), 'utf8').catch(() => '')).split('\n')[0]);
    if (pid > 0) {
      try {
        process.kill(pid, 'SIGQUIT');
      } catch {
        /* gone */
      }
    }
  }
}

/**
 * A fresh pgrepl cluster for one measurement on `ports` consecutive free ports; `use` gets its dir
 * and first port. Always torn down: `down --destroy`, then a kill by pid of any agent or server left.
 */
export async function withCluster<T>(user: OsUser, args: readonly string[] | ((port: number) => readonly string[]), use: (dir: string, port: number) => Promise<T>, ports = 3): Promise<T> {
  const parent = await scratch(user);
  const dir = join(parent, 'cluster');
  const port = await freePort(ports);
  try {
    await pgrepl(['up', '--dir', dir, '--port', String(port), ...(typeof args === 'function' ? args(port) : args)]);
    return await use(dir, port);
  } finally {
    await pgrepl(['down', '--dir', dir, '--destroy']).catch(() => undefined);
    await killAgentsUnder(dir);
    await killServersUnder(dir);
    await rm(parent, { recursive: true, force: true });
  }
}

export function report(title: string, rows: ReadonlyArray<readonly [string, number, string?]>, floor: number): void {
  console.log(`\n${title}`);
  for (const [name, seconds, note] of rows) {
    console.log(`  ${name.padEnd(44)} ${seconds.toFixed(3)} s   ratio ${(seconds / floor).toFixed(2)}x${note ? `   ${note}` : ''}`);
  }
}
