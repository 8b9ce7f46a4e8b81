import type { PgBinaries } from './binaries.js';
import { formatLsn, parseLsn, type Lsn } from './lsn.js';
import type { OsUser } from './os-user.js';
import { runProgram } from './process.js';
import { PgCommandError } from './errors.js';

/** Where a stopped server's WAL runs out, as pg_waldump reports it. */
export interface WalTail {
  /** Start of the last valid record. */
  readonly lastRecord: Lsn;
  /** Where the next, invalid, record would start, when pg_waldump says (not at a page boundary, a missing segment, ...). */
  readonly end: Lsn | null;
}

/**
 * Reads a stopped server's pg_wal with pg_waldump from `from` (its last checkpoint, or where
 * `timeline` began) on `timeline`, to where its valid WAL runs out. pg_waldump always ends with
 * "error in WAL record at A: <why>", A the start of the last valid record; the why often names
 * where the next would start ("invalid record length at B"), but not always. Null if it read
 * nothing at all.
 */
export async function walTail(bin: PgBinaries, user: OsUser, dataDir: string, from: Lsn, timeline: number): Promise<WalTail | null> {
  try {
    await runProgram(bin.path('pg_waldump'), ['--quiet', '--path', `${dataDir}/pg_wal`, '--start', formatLsn(from), '--timeline', String(timeline)], { user, cwd: dataDir });
    return null;
  } catch (error) {
    if (!(error instanceof PgCommandError)) throw error;
    return parseWalTail(error.message);
  }
}

export function parseWalTail(message: string): WalTail | null {
  const match = /error in WAL record at ([0-9A-F]+\/[0-9A-F]+): ([^\n]*)/i.exec(message);
  if (!match) return null;
  const next = / at ([0-9A-F]+\/[0-9A-F]+)/i.exec(match[2]!);
  return { lastRecord: parseLsn(match[1]!), end: next ? parseLsn(next[1]!) : null };
}

/**
 * The end of the valid WAL in a stopped server's pg_wal, or null when pg_waldump does not say.
 * Used after a failover to count the bytes the old primary wrote that the new one may lack.
 */
export async function walEnd(bin: PgBinaries, user: OsUser, dataDir: string, from: Lsn, timeline: number): Promise<Lsn | null> {
  return (await walTail(bin, user, dataDir, from, timeline))?.end ?? null;
}
