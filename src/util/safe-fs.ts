import { randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import { open, rename, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';

/**
 * File access that never follows a symlink. pgrepl, run as root, writes into directories the
 * PostgreSQL OS user owns (data directories); a link planted there must not redirect root's write
 * to, or read from, a file elsewhere.
 */
export async function readFileNoFollow(path: string): Promise<string> {
  const file = await open(path, constants.O_RDONLY | constants.O_NOFOLLOW);
  try {
    return await file.readFile('utf8');
  } finally {
    await file.close();
  }
}

/** Atomically replaces `path`: writes a new, exclusively created temp file beside it, then renames it over. */
export async function writeFileAtomic(path: string, content: string, mode: number, owner?: { uid: number; gid: number }): Promise<void> {
  const temp = join(dirname(path), `.pgrepl-${randomBytes(8).toString('hex')}.tmp`);
  const file = await open(temp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, mode);
  try {
    await file.writeFile(content);
    await file.chmod(mode);
    if (owner) await file.chown(owner.uid, owner.gid);
  } catch (error) {
    await file.close();
    await rm(temp, { force: true });
    throw error;
  }
  await file.close();
  await rename(temp, path);
}
