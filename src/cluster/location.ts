import { homedir } from 'node:os';
import { join, resolve } from 'node:path';

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

export function resolveClusterDir(dir: string | undefined): string {
  return dir ? resolve(dir) : defaultClusterDir();
}
