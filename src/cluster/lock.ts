import { closeSync, mkdirSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { PgreplError } from '../errors.js';
import { isAlive } from '../pg/postmaster-pid.js';

export const LOCK_FILE = '.pgrepl-lock';

/** Another pgrepl is changing the same cluster. */
export class ClusterBusyError extends PgreplError {}

export interface Lock {
  /** True when taking the lock had to create the cluster directory itself. */
  readonly createdDir: boolean;
}

function holder(path: string): { pid: number; command: string } | null {
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as { pid: number; command: string };
  } catch {
    return null;
  }
}

function makeDir(path: string): boolean {
  try {
    mkdirSync(path, { mode: 0o700 });
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw error;
  }
}

/**
 * Creates `root` if absent (reporting whether this call made it) and takes its lock file.
 * Synchronous inside: a few metadata calls at the start of every command, failover's included.
 */
async function acquire(root: string, command: string): Promise<Lock> {
  mkdirSync(dirname(root), { recursive: true, mode: 0o755 });
  const createdDir = makeDir(root);
  const path = join(root, LOCK_FILE);
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(path, 'wx', 0o644);
      try {
        writeSync(fd, JSON.stringify({ pid: process.pid, command }));
      } finally {
        closeSync(fd);
      }
      return { createdDir };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const other = holder(path);
      if (other && other.pid !== process.pid && isAlive(other.pid)) {
        throw new ClusterBusyError(`another pgrepl (pid ${other.pid}, \`${other.command}\`) is changing ${root}`, {
          hint: 'wait for it to finish, then run the command again',
        });
      }
      rmSync(path, { force: true }); // left by a pgrepl that died: take it over
    }
  }
  throw new ClusterBusyError(`could not take the lock ${path}`, { hint: 'run the command again' });
}

/**
 * Runs `work` holding the cluster's lock, so two commands never change one cluster at once (an `up`
 * would otherwise take another's running clone for a half-built one, or start a primary a
 * switchover has just stopped). Read-only commands (status, url, logs) do not take it.
 */
export async function withClusterLock<T>(root: string, command: string, work: (lock: Lock) => Promise<T>): Promise<T> {
  const lock = await acquire(root, command);
  try {
    return await work(lock);
  } finally {
    const path = join(root, LOCK_FILE);
    if (holder(path)?.pid === process.pid) rmSync(path, { force: true });
  }
}
