import { readdir, readFile } from 'node:fs/promises';
import { waitFor } from '../util/wait.js';
import { isAlive, livePostmaster, readPostmasterPid, shmAttachCount } from './postmaster-pid.js';

/**
 * Pids of running `program`s (by basename) started with `-D dataDir`: a pg_basebackup left running
 * when the pgrepl that started it was killed outright. Linux only (reads /proc); empty elsewhere.
 */
export async function programsWritingTo(program: string, dataDir: string): Promise<number[]> {
  const pids: number[] = [];
  for (const entry of await readdir('/proc').catch(() => [] as string[])) {
    if (!/^\d+$/.test(entry)) continue;
    const argv = (await readFile(`/proc/${entry}/cmdline`, 'utf8').catch(() => '')).split('\0');
    const d = argv.indexOf('-D');
    if (argv[0]?.split('/').pop() === program && d >= 0 && argv[d + 1] === dataDir) pids.push(Number(entry));
  }
  return pids;
}

/** Stops such stray programs (SIGTERM) and waits until they are gone, so their directory can be removed. */
export async function stopProgramsWritingTo(program: string, dataDir: string): Promise<number[]> {
  const pids = await programsWritingTo(program, dataDir);
  for (const pid of pids) {
    try {
      process.kill(pid, 'SIGTERM');
    } catch {
      /* already gone */
    }
  }
  await waitFor(() => (pids.some(isAlive) ? undefined : true), { what: `${program} (pids ${pids.join(', ')}) to exit`, timeoutMs: 10_000, intervalMs: 5 });
  return pids;
}

/**
 * Why a server may still run on `dataDir`, or null once none can: its pid file names a live
 * postmaster of it, a process is still attached to the shared memory that file names (orphaned
 * backends of a killed postmaster), or a postgres process was started with `-D dataDir` (its pid
 * file gone or never written). PostgreSQL's own test for a stale lock, plus the process table:
 * a directory with any of these must not be deleted.
 */
export async function runningServerEvidence(dataDir: string): Promise<string | null> {
  const live = await livePostmaster(dataDir);
  if (live) return `its postmaster (pid ${live.pid}) is running`;
  const info = await readPostmasterPid(dataDir);
  if (info?.shmId != null && (await shmAttachCount(info.shmId)) !== 0) return `processes are still attached to its shared memory (id ${info.shmId})`;
  const pids = await programsWritingTo('postgres', dataDir);
  return pids.length > 0 ? `postgres (pid ${pids.join(', ')}) runs on it` : null;
}
