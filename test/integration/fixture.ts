import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { chmod, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { passwordFor } from '../../src/pg/passfile.js';
import { readPostmasterPid } from '../../src/pg/postmaster-pid.js';
import { findFreeBlock } from '../../src/util/ports.js';
import { waitFor } from '../../src/util/wait.js';

/** The bundled CLI, the very file `npx pgrepl` runs. */
export const CLI = resolve(dirname(fileURLToPath(import.meta.url)), '../../pgrepl.cjs');

export interface CliResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs `pgrepl ARGS` to completion. */
export function pgrepl(args: readonly string[], env: NodeJS.ProcessEnv = {}): Promise<CliResult> {
  return new Promise((resolvePromise) => {
    execFile(process.execPath, [CLI, ...args], { env: { ...process.env, ...env }, maxBuffer: 64 * 2 ** 20 }, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
      resolvePromise({ code, stdout, stderr });
    });
  });
}

/** Starts `pgrepl ARGS` without waiting, for tests that interrupt it or watch it run. */
export function startPgrepl(args: readonly string[], env: NodeJS.ProcessEnv = {}): ChildProcess {
  return spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
}

/** Runs `pgrepl ARGS --json` and parses stdout; fails the test with stderr if it did not exit 0. */
export async function pgreplJson<T = Record<string, unknown>>(args: readonly string[]): Promise<T> {
  const result = await pgrepl([...args, '--json']);
  if (result.code !== 0) throw new Error(`pgrepl ${args.join(' ')} exited ${result.code}: ${result.stderr}`);
  return JSON.parse(result.stdout) as T;
}

/** `count` consecutive free ports from a random base, so parallel test files do not collide. */
export function freePortBlock(count: number): Promise<number> {
  // Below Linux's ephemeral range (32768+), where an outgoing connection could take a port between check and use.
  return findFreeBlock(count, 20000 + Math.floor(Math.random() * 12000));
}

/** Kills, by pid, the HA agents of the cluster at `dir` (first, or they would restart their servers). */
export async function killAgentsUnder(dir: string): Promise<void> {
  for (const file of await readdir(join(dir, 'agents')).catch(() => [] as string[])) {
    if (!file.endsWith('.pid')) continue;
    const pid = Number((await readFile(join(dir, 'agents', file), 'utf8').catch(() => '')).trim());
    const argv = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '');
    try {
      // Only an agent of this very cluster: a pid in a stale file may be some other process by now.
      if (pid > 0 && argv.split('\0').includes('agent') && argv.split('\0').includes(dir)) process.kill(pid, 'SIGKILL');
    } catch {
      /* not running */
    }
  }
}

/** Kills, by pid, the postmasters of data dirs under `dir`: only servers this test started. */
export async function killServersUnder(dir: string): Promise<void> {
  const nodes = await readdir(join(dir, 'nodes')).catch(() => [] as string[]);
  for (const node of nodes) {
    const text = await readFile(join(dir, 'nodes', node, 'data', 'postmaster.pid'), 'utf8').catch(() => '');
    const pid = Number(text.split('\n')[0]);
    if (pid > 0) {
      try {
        process.kill(pid, 'SIGQUIT');
      } catch {
        /* not running */
      }
    }
  }
}

/**
 * A fresh cluster directory path (not yet created) in a temp dir, torn down after the test even
 * when it fails: `pgrepl down`, then a kill of any server left, then removal.
 */
export async function clusterDir(t: TestContext): Promise<string> {
  const parent = await mkdtemp(join(tmpdir(), 'pgrepl-test-'));
  await chmod(parent, 0o755); // the postgres OS user must be able to enter it
  const dir = join(parent, 'cluster');
  t.after(async () => {
    await pgrepl(['down', '--dir', dir]).catch(() => undefined);
    await killAgentsUnder(dir);
    await killServersUnder(dir);
    await rm(parent, { recursive: true, force: true });
  });
  return dir;
}

/** Runs psql with a pgrepl URL; returns trimmed unaligned output. */
export function psql(bindir: string, url: string, sql: string): Promise<string> {
  return new Promise((resolvePromise, reject) => {
    execFile(join(bindir, 'psql'), [url, '-XAtqc', sql], (error, stdout, stderr) => {
      if (error) reject(new Error(`psql failed: ${stderr}`));
      else resolvePromise(stdout.trim());
    });
  });
}

/** Waits until `sql` on `url` prints `expected`. */
export function waitForPsql(bindir: string, url: string, sql: string, expected: string, what: string): Promise<boolean> {
  return waitFor(async () => ((await psql(bindir, url, sql).catch(() => '')) === expected ? true : undefined), { what, timeoutMs: 20_000, intervalMs: 20 });
}

/** The error contract: non-zero exit, one `pgrepl: error:` line naming the problem, then a hint. */
export function assertOneLineError(result: { code: number; stderr: string }, pattern: RegExp): void {
  assert.notEqual(result.code, 0, 'exit code');
  const lines = result.stderr.trim().split('\n').filter((l) => !l.startsWith('hint: '));
  const errorLine = lines.find((l) => l.startsWith('pgrepl: error: '));
  assert.ok(errorLine, `no error line in: ${result.stderr}`);
  assert.match(errorLine, pattern);
  assert.doesNotMatch(result.stderr, /\n\s+at /, 'no stack trace without --debug');
}

/** The postmaster pid of a node of the cluster at `dir` (a server this test started). */
export async function nodePid(dir: string, node: string): Promise<number> {
  const info = await readPostmasterPid(join(dir, 'nodes', node, 'data'));
  if (!info) throw new Error(`${node} has no postmaster.pid`);
  return info.pid;
}

/** Signals a node's postmaster and waits until `pgrepl status` no longer sees it running. */
export async function stopNode(dir: string, node: string, signal: NodeJS.Signals): Promise<void> {
  process.kill(await nodePid(dir, node), signal);
  await waitFor(
    async () => {
      const status = await pgreplJson<{ nodes: Array<{ name: string; running: boolean }> }>(['status', '--dir', dir]);
      return status.nodes.find((n) => n.name === node)!.running ? undefined : true;
    },
    { what: `${node} to stop`, timeoutMs: 10_000 },
  );
}

/** The cluster's superuser password, read from its passfile (for clients that take no passfile). */
export async function superuserPassword(dir: string): Promise<string> {
  return passwordFor(await readFile(join(dir, 'secrets', 'superuser.pgpass'), 'utf8'), 'postgres')!;
}
