import { randomBytes } from 'node:crypto';
import { closeSync, constants, fchmodSync, fchownSync, fstatSync, openSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

/**
 * File access that never follows a symlink. pgrepl, run as root, writes into directories the
 * PostgreSQL OS user owns (data directories); a link planted there must not redirect root's write
 * to, or read from, a file elsewhere.
 *
 * The calls are synchronous behind an async signature: the files are small, and a trip through
 * libuv's thread pool per call costs more than the call itself (~0.5 ms against ~20 µs on a busy
 * 2-CPU machine), which a failover, making dozens of them before the promotion, would pay in full.
 */
export async function readFileNoFollow(path: string): Promise<string> {
  return readFileNoFollowSync(path);
}

/**
 * Reads a regular file, refusing a symlink in its place; a FIFO (which would block the process on
 * open and read) is refused too, opened without waiting for a writer.
 */
export function readFileNoFollowSync(path: string): string {
  const fd = openSync(path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  try {
    if (!fstatSync(fd).isFile()) throw Object.assign(new Error(`${path} is not a regular file`), { code: 'EINVAL' });
    return readFileSync(fd, 'utf8');
  } finally {
    closeSync(fd);
  }
}

/** Atomically replaces `path`: writes a new, exclusively created temp file beside it, then renames it over. */
export async function writeFileAtomic(path: string, content: string, mode: number, owner?: { uid: number; gid: number }): Promise<void> {
  writeFileAtomicSync(path, content, mode, owner);
}

/** `writeFileAtomic` for callers that must not yield in between (a lock's critical section). */
export function writeFileAtomicSync(path: string, content: string, mode: number, owner?: { uid: number; gid: number }): void {
  const temp = join(dirname(path), `.pgrepl-${randomBytes(8).toString('hex')}.tmp`);
  const fd = openSync(temp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, mode);
  try {
    writeFileSync(fd, content);
    fchmodSync(fd, mode);
    if (owner) fchownSync(fd, owner.uid, owner.gid);
  } catch (error) {
    closeSync(fd);
    rmSync(temp, { force: true });
    throw error;
  }
  closeSync(fd);
  renameSync(temp, path);
}
