import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { UsageError } from '../errors.js';
import { CONTROL_CHARS } from '../util/values.js';

/**
 * The longest cluster directory path pgrepl accepts. PostgreSQL keeps paths in MAXPGPATH (1024)
 * bytes, and the deepest it makes inside a data directory (DIR/nodes/NAME/data/pg_wal/
 * archive_status/<24 hex>.done, a 63-character node name) is ~180 bytes below DIR; past that,
 * initdb fails with a misleading "program postgres not found".
 */
export const MAX_DIR_BYTES = 800;

/**
 * The cluster directory when --dir is omitted: $PGREPL_DIR, else a per-user data directory. Root
 * gets /var/lib/pgrepl/default because the postgres OS user cannot enter root's home.
 */
export function defaultClusterDir(): string {
  if (process.env.PGREPL_DIR) return resolve(process.env.PGREPL_DIR);
  if (typeof process.geteuid === 'function' && process.geteuid() === 0) return '/var/lib/pgrepl/default';
  const dataHome = process.env.XDG_DATA_HOME || join(homedir(), '.local', 'share');
  return join(dataHome, 'pgrepl', 'default');
}

/** The cluster directory, absolute; refused (before anything is touched) when PostgreSQL could not use it. */
export function resolveClusterDir(dir: string | undefined): string {
  const root = dir ? resolve(dir) : defaultClusterDir();
  if (CONTROL_CHARS.test(root)) {
    throw new UsageError(`the cluster directory ${JSON.stringify(root)} contains a control character (a line break, a tab, ...)`, {
      hint: 'PostgreSQL writes it into its configuration files, which are line-based: choose a --dir without one',
    });
  }
  const bytes = Buffer.byteLength(root);
  if (bytes > MAX_DIR_BYTES) {
    throw new UsageError(`the cluster directory path is ${bytes} bytes long; PostgreSQL's paths inside it would pass its 1024-byte limit (pgrepl accepts up to ${MAX_DIR_BYTES})`, {
      hint: 'choose a shorter --dir',
    });
  }
  return root;
}
