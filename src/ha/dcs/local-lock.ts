import { randomBytes } from 'node:crypto';
import { closeSync, constants, linkSync, lstatSync, openSync, unlinkSync, writeFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { readFileNoFollowSync } from '../../util/safe-fs.js';
import { DcsUnavailableError } from './dcs.js';
import { isRunning, selfIdentity, type ProcessIdentity } from './process-identity.js';

/**
 * The short-held mutex of the local DCS: a file created atomically with link(2) (so it never exists
 * half-written) naming its holder's pid, start time and a nonce unique to this acquisition.
 *
 * Why not flock: Node has no binding for it. Why not an abstract Unix socket (freed by the kernel
 * when its holder dies): it is scoped to a network namespace, and agents may run in several.
 *
 * A lock whose holder has exited (or is a zombie: nothing reaps orphans under some PID 1s) is taken
 * over. Removing it naively races: two waiters both see the dead holder, the first removes it and
 * takes the lock, the second then removes the first's live lock. So a takeover is itself guarded by
 * a lock named after the dead acquisition's nonce, `PATH.takeover-NONCE`: only the process holding
 * that marker may unlink PATH, and only after re-reading that PATH still carries NONCE. The dead
 * holder never unlinks it, and a marker taken after an earlier takeover finished finds another
 * nonce in PATH and backs off. A marker left by a taker that died mid-takeover is taken over the
 * same way, up to a depth of three (each level needs a crash inside a window of microseconds);
 * beyond that the waiter times out, which is unavailability, never two holders.
 *
 * A live holder is never robbed, even a stopped one (SIGSTOP): it could resume in the middle of its
 * write. Waiters give up with DcsUnavailableError at their deadline instead.
 */

interface LockOwner extends ProcessIdentity {
  readonly nonce: string;
}

/** A lock file as found: the key identifying this acquisition, and whether its holder still runs. */
interface FoundLock {
  readonly key: string;
  readonly running: boolean;
}

const MAX_TAKEOVER_DEPTH = 3;
/** A lock file with unparseable content (disk damage, a hand edit) counts as dead after this long. */
const UNREADABLE_LOCK_STALE_MS = 5_000;

function newOwner(): LockOwner {
  return { ...selfIdentity(), nonce: randomBytes(8).toString('hex') };
}

/** Creates `path` holding `owner`, complete or not at all. False when it already exists. */
function tryCreate(path: string, owner: LockOwner): boolean {
  const temp = `${path}.${owner.nonce}.tmp`;
  const fd = openSync(temp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o600);
  try {
    writeFileSync(fd, JSON.stringify(owner));
  } finally {
    closeSync(fd);
  }
  try {
    linkSync(temp, path);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw error;
  } finally {
    unlinkSync(temp);
  }
}

function parseOwner(text: string): LockOwner | null {
  try {
    const o = JSON.parse(text) as Partial<LockOwner>;
    if (Number.isSafeInteger(o.pid) && typeof o.startTime === 'string' && typeof o.nonce === 'string' && /^[0-9a-f]{16}$/.test(o.nonce)) {
      return o as LockOwner;
    }
  } catch {
    /* falls through */
  }
  return null;
}

/** The lock at `path`, or null when there is none. */
function readLock(path: string): FoundLock | null {
  let text: string;
  try {
    text = readFileNoFollowSync(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw error;
  }
  const owner = parseOwner(text);
  if (owner) return { key: owner.nonce, running: isRunning(owner) };
  const stat = lstatSync(path, { throwIfNoEntry: false });
  if (!stat) return null;
  return { key: `ino-${stat.ino}-${stat.mtimeMs}`, running: Date.now() - stat.mtimeMs < UNREADABLE_LOCK_STALE_MS };
}

/** One attempt to take `path` for `owner`, taking over from a dead holder. Synchronous: never waits. */
function tryAcquire(path: string, owner: LockOwner, depth: number): boolean {
  if (tryCreate(path, owner)) return true;
  const found = readLock(path);
  if (found === null) return tryCreate(path, owner);
  if (found.running || depth >= MAX_TAKEOVER_DEPTH) return false;
  const markerPath = `${path}.takeover-${found.key}`;
  const marker = newOwner();
  if (!tryAcquire(markerPath, marker, depth + 1)) return false;
  try {
    if (readLock(path)?.key === found.key) unlinkSync(path);
  } finally {
    release(markerPath, marker);
  }
  return tryCreate(path, owner);
}

function release(path: string, owner: LockOwner): void {
  // Only a takeover removes another's lock, and a takeover needs this (live) process dead: so the
  // file is still ours. The check guards against that reasoning having a hole.
  let text: string;
  try {
    text = readFileNoFollowSync(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw error;
  }
  if (parseOwner(text)?.nonce === owner.nonce) unlinkSync(path);
}

/**
 * Runs `critical` (synchronous, so it holds the lock for microseconds, never across an await) under
 * the lock at `path`. Throws DcsUnavailableError when the lock stays held past `timeoutMs`.
 */
export async function withLock<T>(path: string, timeoutMs: number, critical: () => T): Promise<T> {
  const owner = newOwner();
  const deadline = Date.now() + timeoutMs;
  for (let attempt = 1; !tryAcquire(path, owner, 0); attempt++) {
    if (Date.now() >= deadline) {
      throw new DcsUnavailableError(`the local DCS lock ${path} stayed held for ${timeoutMs} ms`, {
        hint: 'a pgrepl agent holding it is stopped or stuck; it is taken over only once that process has exited',
      });
    }
    await sleep(Math.min(attempt, 5));
  }
  try {
    return critical();
  } finally {
    release(path, owner);
  }
}
