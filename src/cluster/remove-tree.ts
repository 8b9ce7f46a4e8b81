import { lstatSync, readdirSync, rmdirSync, unlinkSync, type Stats } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { PgreplError } from '../errors.js';
import type { OsUser } from '../pg/os-user.js';
import { runProgram } from '../pg/process.js';
import { unsafePath } from '../util/safe-fs.js';

/** A directory could not be emptied: something keeps writing into it. */
export class RemoveTreeError extends PgreplError {}

const EMPTY_ATTEMPTS = 3;

/**
 * Removes `path` (a file or a directory tree) below the cluster directory `root` without ever
 * following a symlink, whatever the PostgreSQL OS user does meanwhile. Node's recursive rm resolves
 * every path from the top again, so a directory swapped for a link to /etc between its readdir and
 * its unlinks (renameat2 RENAME_EXCHANGE, in a loop) steers root's deletions there; and Node has no
 * openat/unlinkat to walk by descriptors. So the tree is split by who can change it:
 *
 * - A directory that is root's own and writable by no one else (every directory from `root` down
 *   to it being so) cannot change under root: no one else can rename, replace or add an entry in
 *   it. Root lstat()s an entry there and then unlink()s or rmdir()s that very name (both act on the
 *   name itself, never through it), or descends into it when it is such a directory too.
 * - A directory the server user can write (a node directory, a data directory, anything in them)
 *   is emptied by `rm -rf` running AS THAT USER (pg/process, like every PostgreSQL program): it can
 *   delete only what the postgres account could delete anyway, so no swap can turn it against
 *   anything else (and GNU rm walks with openat/O_NOFOLLOW besides). Root then only rmdir()s the
 *   emptied directory by its name in a directory of its own.
 *
 * When pgrepl does not run as root, PostgreSQL runs as the same user and no one else can write
 * the tree: the first rule covers all of it.
 */
export async function removeTree(root: string, path: string, user: OsUser): Promise<void> {
  const parts = relative(root, path).split(sep).filter(Boolean);
  if (parts[0] === '..') throw new Error(`invariant: ${path} is outside ${root}`);
  let dir = root;
  for (const part of parts.slice(0, -1)) {
    dir = join(dir, part);
    const stats = lstatOrNull(dir);
    if (stats === null) return;
    if (!stats.isDirectory()) throw unsafePath(dir, stats, 'directory');
    if (!isOwn(stats, user)) return removeAsServer([path], user).catch((error: unknown) => Promise.reject(cannotRemove(path, error)));
  }
  await removeEntry(path, user);
}

async function removeEntry(path: string, user: OsUser): Promise<void> {
  const stats = lstatOrNull(path);
  if (stats === null) return;
  if (!stats.isDirectory()) return unlinkSync(path); // a file, a link, a FIFO: the name itself goes
  if (isOwn(stats, user)) {
    for (const entry of readdirSync(path)) await removeEntry(join(path, entry), user);
    return rmdirSync(path);
  }
  // What the server user does meanwhile can make a pass fail (a swapped entry, a new file): a
  // few passes, then a one-line error naming the directory.
  for (let attempt = 1; ; attempt++) {
    try {
      const entries = readdirSync(path);
      if (entries.length > 0) await removeAsServer(entries.map((e) => join(path, e)), user);
      return rmdirSync(path);
    } catch (error) {
      if (attempt === EMPTY_ATTEMPTS) throw cannotRemove(path, error);
    }
  }
}

function cannotRemove(path: string, error: unknown): RemoveTreeError {
  const reason = ((error as Error).message.split('\n').find((l) => l.startsWith('rm: ')) ?? (error as Error).message.split('\n')[0]!).replace(/^rm: /, '');
  return new RemoveTreeError(`could not remove ${path}: ${reason}`, {
    hint: 'something keeps changing it (a server running on it? the PostgreSQL OS account?); stop that, then run the command again',
    cause: error,
  });
}

/** Root's own directory, closed to everyone else; always true when PostgreSQL runs as the current user. */
function isOwn(stats: Stats, user: OsUser): boolean {
  if (!user.switchTo) return true;
  return stats.uid === process.geteuid?.() && (stats.mode & 0o022) === 0;
}

function lstatOrNull(path: string): Stats | null {
  try {
    return lstatSync(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw error;
  }
}

async function removeAsServer(paths: readonly string[], user: OsUser): Promise<void> {
  await runProgram('rm', ['-rf', '--', ...paths], { user, cwd: '/' });
}
