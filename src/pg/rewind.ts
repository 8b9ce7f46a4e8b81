import type { PgBinaries } from './binaries.js';
import type { OsUser } from './os-user.js';
import { clearStaleLock } from './postmaster-pid.js';
import { runProgram } from './process.js';

export interface RewindOptions {
  readonly bin: PgBinaries;
  readonly user: OsUser;
  readonly dataDir: string;
  /** Conninfo of the current primary, as a superuser; must name a passfile, not a password. */
  readonly sourceConninfo: string;
  readonly cwd: string;
}

/**
 * Rewinds a stopped former primary (or any diverged node) to the point where its timeline forked
 * from the source, so it can stream from it. Hazards, each handled by the caller: the source must
 * have checkpointed since its promotion (or pg_rewind sees the old timeline and does nothing); the
 * target needs its own WAL back to the last common checkpoint (wal_keep_size); and pg_rewind copies
 * the source's configuration files, so pgrepl rewrites the node's own afterwards. PostgreSQL 13+
 * runs crash recovery on an uncleanly stopped target by itself.
 */
export async function rewind(options: RewindOptions): Promise<string> {
  await clearStaleLock(options.dataDir);
  const { stdout, stderr } = await runProgram(
    options.bin.path('pg_rewind'),
    ['--target-pgdata', options.dataDir, '--source-server', options.sourceConninfo, '--progress'],
    { user: options.user, cwd: options.cwd },
  );
  return `${stdout}${stderr}`;
}
