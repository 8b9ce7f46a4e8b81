import { readdir, readFile } from 'node:fs/promises';
import { waitFor } from '../util/wait.js';
import { isAlive } from './postmaster-pid.js';

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
