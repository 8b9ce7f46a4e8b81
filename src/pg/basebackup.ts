import type { PgBinaries } from './binaries.js';
import type { OsUser } from './os-user.js';
import { runProgram } from './process.js';
import { syncDataDir } from './sync.js';

export interface BasebackupProgress {
  readonly doneKb: number;
  readonly totalKb: number;
  readonly percent: number;
}

export interface BasebackupOptions {
  readonly bin: PgBinaries;
  readonly user: OsUser;
  readonly dataDir: string;
  readonly cwd: string;
  /** libpq conninfo of the upstream. Must name a passfile, never a password: `-R` copies it into postgresql.auto.conf. */
  readonly conninfo: string;
  readonly slot: string;
  /**
   * Make the copy durable before returning (one syncfs). Callers that start the clone right away
   * may skip it: a server starting from a base backup fsyncs its whole data directory itself
   * (recovery_init_sync_method) before it replays anything, so the clone is durable once it has
   * started; until then the caller must treat it as half-built.
   */
  readonly durable: boolean;
  readonly onProgress?: (progress: BasebackupProgress) => void;
}

const PROGRESS = /(\d+)\/(\d+) kB \((\d+)%\)/;

/** Parses one `-P` status line ("22953/22953 kB (100%), 1/1 tablespace"). */
export function parseProgress(line: string): BasebackupProgress | undefined {
  const match = PROGRESS.exec(line);
  if (!match) return undefined;
  return { doneKb: Number(match[1]), totalKb: Number(match[2]), percent: Number(match[3]) };
}

/**
 * Clones the upstream into `dataDir`: `-X stream` so the WAL needed for consistency arrives during
 * the copy, `-c fast` so it does not wait for a scheduled checkpoint, `-S` so the replica's own
 * slot holds that WAL from the first byte, and `-R` for standby.signal and primary_conninfo.
 * Hazard: the slot must exist and be reserved first, or the clone is not protected by it.
 * Durability comes from one syncfs at the end or from the first start (see `durable`), not from
 * pg_basebackup's file-by-file fsync.
 */
export async function basebackup(options: BasebackupOptions): Promise<void> {
  let pending = '';
  await runProgram(
    options.bin.path('pg_basebackup'),
    ['-D', options.dataDir, '-X', 'stream', '-c', 'fast', '-S', options.slot, '-R', '-P', '-w', '--no-sync', '-d', options.conninfo],
    {
      user: options.user,
      cwd: options.cwd,
      onStderr: (chunk) => {
        const parts = (pending + chunk).split(/[\r\n]/);
        pending = parts.pop() ?? '';
        for (const line of parts) {
          const progress = parseProgress(line);
          if (progress) options.onProgress?.(progress);
        }
      },
    },
  );
  if (options.durable) await syncDataDir(options.bin, options.user, options.dataDir);
}
