import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';

/** What a running postmaster writes to `postmaster.pid` (see PostgreSQL's pidfile.h). */
export interface PostmasterPid {
  readonly pid: number;
  readonly port: number;
  /** `starting`, `stopping`, `ready` (accepting connections) or `standby` (hot standby accepting reads). */
  readonly status: string;
}

export async function readPostmasterPid(dataDir: string): Promise<PostmasterPid | null> {
  let text: string;
  try {
    text = await readFile(join(dataDir, 'postmaster.pid'), 'utf8');
  } catch {
    return null;
  }
  const lines = text.split('\n');
  const pid = Number(lines[0]);
  if (!Number.isInteger(pid) || pid <= 0) return null;
  return { pid, port: Number(lines[3]), status: (lines[7] ?? '').trim() };
}

/**
 * Whether `pid` is a live process. A zombie counts as dead: a postmaster started by an earlier
 * pgrepl run is re-parented, and its exit is only reaped whenever that parent gets to it.
 */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return true;
  }
}

/** True when the pid is alive and, where /proc exists, really is a postgres for this data dir. */
async function isOurPostmaster(pid: number, dataDir: string): Promise<boolean> {
  if (!isAlive(pid)) return false;
  try {
    const cmdline = await readFile(`/proc/${pid}/cmdline`, 'utf8');
    return cmdline.split('\0').includes(dataDir);
  } catch {
    return true;
  }
}

/** The live postmaster of `dataDir`, or null when none runs (a stale pid file counts as none). */
export async function livePostmaster(dataDir: string): Promise<PostmasterPid | null> {
  const info = await readPostmasterPid(dataDir);
  return info && (await isOurPostmaster(info.pid, dataDir)) ? info : null;
}
