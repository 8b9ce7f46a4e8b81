import type { PgBinaries } from './binaries.js';
import { formatLsn, parseLsn, type Lsn } from './lsn.js';
import type { OsUser } from './os-user.js';
import { runProgram } from './process.js';
import { PgCommandError } from './errors.js';

/**
 * The end of the valid WAL in a stopped server's pg_wal, read with pg_waldump from `from` (its last
 * checkpoint) onward: pg_waldump stops with "invalid record length at X" or similar at the end.
 * Used after a failover to count the bytes the old primary wrote that the new one may lack.
 */
export async function walEnd(bin: PgBinaries, user: OsUser, dataDir: string, from: Lsn, timeline: number): Promise<Lsn | null> {
  const program = bin.path('pg_waldump');
  try {
    await runProgram(program, ['--quiet', '--path', `${dataDir}/pg_wal`, '--start', formatLsn(from), '--timeline', String(timeline)], { user, cwd: dataDir });
    return null;
  } catch (error) {
    if (!(error instanceof PgCommandError)) throw error;
    // "error in WAL record at A: invalid record length at B: wanted 24, got 0": B is the end.
    const match = /error in WAL record at [0-9A-F]+\/[0-9A-F]+: [^\n]*? at ([0-9A-F]+\/[0-9A-F]+)/i.exec(error.message);
    return match ? parseLsn(match[1]!) : null;
  }
}
