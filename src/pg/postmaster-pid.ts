import { readFileSync, rmSync } from 'node:fs';
import { dirname } from 'node:path';
import { OpenDir, readFileNoFollowSync } from '../util/safe-fs.js';

/**
 * `dataDir` opened without following it if it is a symlink (its parent is a node directory, whose
 * own name only root can change): the pid file read, or removed, is the one in that very directory.
 */
function inDataDir<T>(dataDir: string, work: (dir: OpenDir) => T): T {
  const dir = OpenDir.open(dirname(dataDir), dataDir);
  try {
    return work(dir);
  } finally {
    dir.close();
  }
}

/** What a running postmaster writes to `postmaster.pid` (see PostgreSQL's pidfile.h). */
export interface PostmasterPid {
  readonly pid: number;
  readonly port: number;
  /** SysV shared memory id of the postmaster's segment, if it wrote one. */
  readonly shmId: number | null;
  /** `starting`, `stopping`, `ready` (accepting connections) or `standby` (hot standby accepting reads). */
  readonly status: string;
}

/** Read synchronously, as the /proc files below: tiny reads that a failover makes often (see util/safe-fs.ts). */
export async function readPostmasterPid(dataDir: string): Promise<PostmasterPid | null> {
  let text: string;
  try {
    text = inDataDir(dataDir, (dir) => readFileNoFollowSync(dir.at('postmaster.pid'))); // in a directory the server user owns
  } catch {
    return null;
  }
  const lines = text.split('\n');
  const pid = Number(lines[0]);
  if (!Number.isInteger(pid) || pid <= 0) return null;
  const shmId = Number((lines[6] ?? '').trim().split(/\s+/)[1]);
  return { pid, port: Number(lines[3]), status: (lines[7] ?? '').trim(), shmId: Number.isInteger(shmId) ? shmId : null };
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
    const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
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

/** Processes attached to a SysV shared memory segment, or 0 when it is gone; null where unknown. */
export async function shmAttachCount(shmId: number): Promise<number | null> {
  let table: string;
  try {
    table = readFileSync('/proc/sysvipc/shm', 'utf8');
  } catch {
    return null;
  }
  for (const line of table.split('\n').slice(1)) {
    const fields = line.trim().split(/\s+/);
    if (Number(fields[1]) === shmId) return Number(fields[6]);
  }
  return 0;
}

/**
 * True once no process of a dead postmaster's server remains attached to its shared memory: its
 * orphaned backends and walsenders have noticed the death and exited, so none can still send WAL
 * or acknowledge a commit.
 */
export async function serverProcessesGone(dataDir: string): Promise<boolean> {
  const info = await readPostmasterPid(dataDir);
  if (!info) return true;
  if (isAlive(info.pid)) return false;
  return info.shmId === null || (await shmAttachCount(info.shmId)) === 0;
}

/**
 * Removes the postmaster.pid of a postmaster that died uncleanly (SIGKILL, OOM) but is still a
 * zombie: where nothing reaps orphans (a container without an init, some sandboxes), PostgreSQL's
 * own kill(pid, 0) check takes the zombie for a live postmaster and refuses to start. The file goes
 * only when the pid is dead or a zombie AND no process is still attached to its shared memory,
 * which is the same test PostgreSQL applies to a stale lock. Returns whether it removed the file.
 */
export async function clearStaleLock(dataDir: string): Promise<boolean> {
  const info = await readPostmasterPid(dataDir);
  if (!info || isAlive(info.pid)) return false;
  if (info.shmId !== null && (await shmAttachCount(info.shmId)) !== 0) return false;
  inDataDir(dataDir, (dir) => rmSync(dir.at('postmaster.pid'), { force: true }));
  return true;
}
