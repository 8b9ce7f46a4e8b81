import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import type { PgBinaries } from './binaries.js';
import type { OsUser } from './os-user.js';
import { runProgram } from './process.js';

const run = promisify(execFile);

/**
 * Makes a freshly written data directory durable. initdb and pg_basebackup fsync every file one by
 * one; on Linux one syncfs(2) of the filesystem (`sync -f`, what PostgreSQL 17 calls
 * `--sync-method=syncfs`) does the same job much faster. So pgrepl runs them with --no-sync and
 * calls this before it marks the node built. Elsewhere, or if `sync -f` fails, it falls back to
 * `initdb --sync-only`, which is PostgreSQL's own fsync of every file.
 */
export async function syncDataDir(bin: PgBinaries, user: OsUser, dataDir: string): Promise<void> {
  if (process.platform === 'linux') {
    try {
      await run('sync', ['-f', dataDir]);
      return;
    } catch {
      /* fall back below */
    }
  }
  await runProgram(bin.path('initdb'), ['--sync-only', '-D', dataDir], { user, cwd: dataDir });
}
