import { randomBytes } from 'node:crypto';
import { closeSync, constants, existsSync, fchmodSync, fchownSync, fstatSync, fsyncSync, lstatSync, openSync, readFileSync, renameSync, rmSync, type Stats, writeFileSync } from 'node:fs';
import { dirname, join, relative, sep } from 'node:path';
import { PgreplError } from '../errors.js';

/**
 * File access that never follows a symlink. pgrepl, run as root, writes into directories the
 * PostgreSQL OS user owns (data directories); a link planted there must not redirect root's write
 * to, or read from, a file elsewhere.
 *
 * The calls are synchronous behind an async signature: the files are small, and a trip through
 * libuv's thread pool per call costs more than the call itself (~0.5 ms against ~20 µs on a busy
 * 2-CPU machine), which a failover, making dozens of them before the promotion, would pay in full.
 */

/**
 * A path pgrepl uses is a symlink, or not the kind of file it should be (a FIFO where a log belongs).
 * `code` is the errno such a refusal has always carried: ELOOP for a link, EINVAL otherwise.
 */
export class UnsafePathError extends PgreplError {
  code = 'EINVAL';
}

function kindOf(stats: Stats): string {
  if (stats.isSymbolicLink()) return 'a symlink';
  if (stats.isDirectory()) return 'a directory';
  if (stats.isFIFO()) return 'a FIFO';
  if (stats.isSocket()) return 'a socket';
  if (stats.isBlockDevice() || stats.isCharacterDevice()) return 'a device';
  return 'a regular file';
}

/** The one-line refusal for `path`, which is `stats` where pgrepl expects `wanted`. */
export function unsafePath(path: string, stats: Stats, wanted: 'directory' | 'regular file'): UnsafePathError {
  const what = kindOf(stats);
  const error = new UnsafePathError(`${path} is ${what}${what === 'a symlink' ? '' : `, not a ${wanted}`}; pgrepl will not use it`, {
    hint: `pgrepl never makes ${what === 'a symlink' ? 'links' : 'such a file'} there (the PostgreSQL OS account, or someone else, did): move it away and run the command again`,
  });
  if (stats.isSymbolicLink()) error.code = 'ELOOP';
  return error;
}

function errno(error: unknown): string | undefined {
  return (error as NodeJS.ErrnoException | undefined)?.code;
}

/**
 * Refuses `path` unless it is absent or of the `wanted` kind (never a symlink): the readable check
 * behind every node path. It names the path; the descriptor-based calls below are what make the
 * operations themselves safe when the path is swapped after this check.
 */
export function assertKind(path: string, wanted: 'directory' | 'regular file'): void {
  let stats: Stats;
  try {
    stats = lstatSync(path);
  } catch (error) {
    if (errno(error) === 'ENOENT') return;
    throw error;
  }
  if (wanted === 'directory' ? !stats.isDirectory() : !stats.isFile()) throw unsafePath(path, stats, wanted);
}

export async function readFileNoFollow(path: string): Promise<string> {
  return readFileNoFollowSync(path);
}

/**
 * Reads a regular file, refusing a symlink in its place; a FIFO (which would block the process on
 * open and read) is refused too, opened without waiting for a writer.
 */
export function readFileNoFollowSync(path: string, shownAs = path): string {
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch (error) {
    if (errno(error) === 'ELOOP') throw unsafePath(shownAs, lstatSync(path), 'regular file');
    throw error;
  }
  try {
    const stats = fstatSync(fd);
    if (!stats.isFile()) throw unsafePath(shownAs, stats, 'regular file');
    return readFileSync(fd, 'utf8');
  } finally {
    closeSync(fd);
  }
}

/**
 * Atomically and durably replaces `path`: writes a new, exclusively created temp file beside it,
 * flushes it, renames it over, and flushes the directory, so after a power cut the file is the old
 * one or the new one, never empty. What pgrepl writes this way (standby.signal, a follow's
 * primary_conninfo, the spec, an intent) decides how a node starts; a demoted primary that came back
 * without its standby.signal would start writable.
 */
export async function writeFileAtomic(path: string, content: string, mode: number, owner?: { uid: number; gid: number }): Promise<void> {
  writeFileAtomicSync(path, content, mode, owner, true);
}

/**
 * `writeFileAtomic` for callers that must not yield in between (a lock's critical section). Not
 * flushed unless `durable`: the local DCS rewrites its records at every renewal, and they describe
 * processes on this machine, which a power cut ends along with the records' meaning.
 */
export function writeFileAtomicSync(path: string, content: string, mode: number, owner?: { uid: number; gid: number }, durable = false): void {
  const temp = join(dirname(path), `.pgrepl-${randomBytes(8).toString('hex')}.tmp`);
  const fd = openSync(temp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, mode);
  try {
    writeFileSync(fd, content);
    fchmodSync(fd, mode);
    if (owner) fchownSync(fd, owner.uid, owner.gid);
    if (durable) fsyncSync(fd);
  } catch (error) {
    closeSync(fd);
    rmSync(temp, { force: true });
    throw error;
  }
  closeSync(fd);
  renameSync(temp, path);
  if (durable) fsyncDirectory(dirname(path));
}

/** `path/.` with O_NOFOLLOW: a directory reached through /proc/self/fd/N opens, a symlink put in its place does not. */
function fsyncDirectory(path: string): void {
  const fd = openSync(`${path}/.`, constants.O_RDONLY | constants.O_DIRECTORY | constants.O_NOFOLLOW);
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

const PROC_FD = '/proc/self/fd';
const O_DIR = constants.O_RDONLY | constants.O_DIRECTORY | constants.O_NOFOLLOW;

/**
 * A directory below a trusted `root`, opened one component at a time, each with O_NOFOLLOW from
 * the descriptor of the one before (Linux: /proc/self/fd/N/NAME resolves from that very open
 * directory, as openat does). No component below `root` is followed if it is a symlink, and once
 * open, the directory is the one the descriptor holds, however its name is swapped afterwards.
 * `at(name)` addresses a file in it that way. Where /proc is missing, paths are checked with
 * lstat instead (no race-freedom there, but no link is followed as found).
 */
export class OpenDir {
  private constructor(
    private readonly fd: number | null,
    readonly path: string,
  ) {}

  static open(root: string, path: string): OpenDir {
    const parts = relative(root, path).split(sep).filter(Boolean);
    if (parts[0] === '..') throw new Error(`invariant: ${path} is outside ${root}`);
    if (!existsSync(PROC_FD)) {
      let current = root;
      for (const part of parts) assertKind((current = join(current, part)), 'directory');
      return new OpenDir(null, path);
    }
    let fd = openSync(root, constants.O_RDONLY | constants.O_DIRECTORY);
    let current = root;
    try {
      for (const part of parts) {
        current = join(current, part);
        let next: number;
        try {
          next = openSync(`${PROC_FD}/${fd}/${part}`, O_DIR);
        } catch (error) {
          const code = errno(error);
          if (code === 'ELOOP' || code === 'ENOTDIR') throw unsafePath(current, lstatSync(current), 'directory');
          throw Object.assign(new Error(`${code}: cannot open ${current}`), { code });
        }
        closeSync(fd);
        fd = next;
      }
    } catch (error) {
      closeSync(fd);
      throw error;
    }
    return new OpenDir(fd, path);
  }

  /** A path to `name` inside this very directory. */
  at(name: string): string {
    return this.fd === null ? join(this.path, name) : `${PROC_FD}/${this.fd}/${name}`;
  }

  close(): void {
    if (this.fd !== null) closeSync(this.fd);
  }

  /** Runs `work` with `dir` open below `root`; error messages name the real path, not /proc's. */
  static async with<T>(root: string, dir: string, work: (open: OpenDir) => Promise<T> | T): Promise<T> {
    const open = OpenDir.open(root, dir);
    try {
      return await work(open);
    } catch (error) {
      if (error instanceof Error && open.fd !== null) error.message = error.message.replaceAll(`${PROC_FD}/${open.fd}`, dir);
      throw error;
    } finally {
      open.close();
    }
  }
}
