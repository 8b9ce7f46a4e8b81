import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { PgBinaries } from './binaries.js';
import type { OsUser } from './os-user.js';
import { writeFileAtomic } from '../util/safe-fs.js';
import { runProgram } from './process.js';
import { syncDataDir } from './sync.js';

export interface InitdbOptions {
  readonly bin: PgBinaries;
  readonly user: OsUser;
  readonly dataDir: string;
  /** A directory only the OS user can read, for the short-lived password file. */
  readonly privateDir: string;
  readonly superuser: string;
  readonly superuserPassword: string;
}

/**
 * Creates a data directory with data checksums (so pg_rewind works and corruption is caught) and
 * scram-sha-256 for every connection. The superuser password goes through a 0600 file that is
 * removed as soon as initdb is done; it never appears in argv. Durability comes from one syncfs at
 * the end instead of initdb's file-by-file fsync (see sync.ts).
 */
export async function initdb(options: InitdbOptions): Promise<void> {
  const pwfile = join(options.privateDir, `.initdb-pw-${process.pid}`);
  await writeFileAtomic(pwfile, `${options.superuserPassword}\n`, 0o600, options.user.switchTo ? options.user : undefined);
  try {
    await runProgram(
      options.bin.path('initdb'),
      ['-D', options.dataDir, '-U', options.superuser, `--pwfile=${pwfile}`, '--auth=scram-sha-256', '--data-checksums', '--encoding=UTF8', '--no-locale', '--no-instructions', '--no-sync'],
      { user: options.user, cwd: options.privateDir },
    );
  } finally {
    await rm(pwfile, { force: true });
  }
  await syncDataDir(options.bin, options.user, options.dataDir);
}
