import { lstatSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PgreplError } from '../../errors.js';
import { DcsUnavailableError, UNKNOWN_HOLDER, type Dcs, type LeaderRecord, type MemberRecord, type Versioned } from './dcs.js';
import { withLock } from './local-lock.js';
import {
  isKeyFile,
  isLeaderFile,
  isMemberFile,
  isUnreadable,
  newVersion,
  readRecord,
  removeRecord,
  writeRecord,
  type LeaderFile,
  type Unreadable,
} from './local-records.js';
import { checkHolderName, checkKeyName, checkMemberName } from './names.js';

/**
 * The one-machine DCS: files in a directory of the cluster directory, shared by agents running as
 * separate processes on this host (all in one PID namespace: lock holders are checked in /proc).
 *
 * Layout: `leader`, `members/NAME`, `keys/KEY` (records, see local-records.ts) and `lock`, the
 * mutex every read-modify-write takes (see local-lock.ts). Plain reads take no lock: every record is
 * replaced whole by rename, so a reader sees one version or the next.
 *
 * An unreadable leader record fails closed: the first call to see it (under the lock) replaces it
 * with a record held by UNKNOWN_HOLDER, a name no agent may take, for a TTL from that moment on the
 * shared monotonic clock; until then nobody acquires it. Why that is safe: records are only ever
 * replaced whole, so an unreadable one was damaged after its last write, by the disk or a hand.
 * Whoever held the lease then cannot renew it (renewal needs a readable record naming it), so it
 * stops believing it leads at most a TTL after that write, which is before the damage was seen
 * plus a TTL. The file's mtime is not used: it is wall-clock time, which a clock step moves.
 */

/** Milliseconds on a clock all processes of this host share. */
export type SharedClock = () => number;

/** CLOCK_MONOTONIC (Node's hrtime on Linux): host-wide, and not moved by NTP or a date change. */
export const monotonicClock: SharedClock = () => Number(process.hrtime.bigint() / 1_000_000n);

export interface LocalDcsOptions {
  readonly ttlMs: number;
  /** Longest wait for the lock before DcsUnavailableError (default 500 ms). */
  readonly timeoutMs?: number;
  /** For tests: one clock for every LocalDcs opened on the directory (default: monotonicClock). */
  readonly clock?: SharedClock;
}

function bootId(): string {
  return readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
}

/** Opens (creating if need be) the local DCS in `dir`, e.g. `CLUSTER_DIR/dcs`. */
export async function openLocalDcs(dir: string, options: LocalDcsOptions): Promise<Dcs> {
  try {
    for (const sub of [dir, join(dir, 'members'), join(dir, 'keys')]) {
      mkdirSync(sub, { recursive: true, mode: 0o700 });
      if (!lstatSync(sub).isDirectory()) throw new DcsUnavailableError(`${sub} is not a directory (a symlink?): the local DCS refuses it`);
    }
    return new LocalDcs(dir, options.ttlMs, options.timeoutMs ?? 500, options.clock ?? monotonicClock, bootId());
  } catch (error) {
    throw asUnavailable(error, dir);
  }
}

function asUnavailable(error: unknown, dir: string): Error {
  if (error instanceof PgreplError) return error;
  return new DcsUnavailableError(`the local DCS in ${dir} failed: ${(error as Error).message}`, { cause: error });
}

class LocalDcs implements Dcs {
  readonly url: string;

  constructor(
    private readonly dir: string,
    readonly ttlMs: number,
    private readonly timeoutMs: number,
    private readonly clock: SharedClock,
    private readonly boot: string,
  ) {
    this.url = `local:${dir}`;
  }

  private get leaderPath(): string {
    return join(this.dir, 'leader');
  }

  /** Runs `fn` mapping every failure that is not already a pgrepl error to DcsUnavailableError. */
  private async guard<T>(fn: () => Promise<T> | T): Promise<T> {
    try {
      return await fn();
    } catch (error) {
      throw asUnavailable(error, this.dir);
    }
  }

  private locked<T>(critical: () => T): Promise<T> {
    return this.guard(() => withLock(join(this.dir, 'lock'), this.timeoutMs, critical));
  }

  /** The leader record as it stands at `now`: expired ones read as null, unreadable ones as such. */
  private readLeader(now: number): LeaderFile | Unreadable | null {
    const record = readRecord(this.leaderPath, isLeaderFile);
    if (record === null || isUnreadable(record)) return record;
    return record.boot === this.boot && record.expiresAt > now ? record : null;
  }

  /** Under the lock: the leader record at `now`, an unreadable one first replaced by UNKNOWN_HOLDER's (see above). */
  private currentLeader(now: number): LeaderFile | null {
    const record = this.readLeader(now);
    if (record === null || !isUnreadable(record)) return record;
    const held = { holder: UNKNOWN_HOLDER, expiresAt: now + this.ttlMs, boot: this.boot };
    writeRecord(this.leaderPath, held);
    return held;
  }

  private writeLeader(holder: string, now: number): void {
    writeRecord(this.leaderPath, { holder, expiresAt: now + this.ttlMs, boot: this.boot });
  }

  async acquireLeader(me: string): Promise<boolean> {
    checkHolderName(me);
    return this.locked(() => {
      const now = this.clock();
      const current = this.currentLeader(now);
      if (current !== null && current.holder !== me) return false;
      this.writeLeader(me, now);
      return true;
    });
  }

  async renewLeader(me: string): Promise<boolean> {
    checkHolderName(me);
    return this.locked(() => {
      const now = this.clock();
      const current = this.currentLeader(now);
      if (current === null || current.holder !== me) return false;
      this.writeLeader(me, now);
      return true;
    });
  }

  async releaseLeader(me: string): Promise<void> {
    checkHolderName(me);
    await this.locked(() => {
      const record = readRecord(this.leaderPath, isLeaderFile);
      if (record !== null && !isUnreadable(record) && record.holder === me) removeRecord(this.leaderPath);
    });
  }

  async leader(): Promise<LeaderRecord | null> {
    const asRecord = (current: LeaderFile | null, now: number): LeaderRecord | null => (current === null ? null : { holder: current.holder, expiresInMs: current.expiresAt - now });
    // A plain read; one that finds the record unreadable takes the lock to replace it.
    const found = await this.guard(() => {
      const now = this.clock();
      const current = this.readLeader(now);
      return isUnreadable(current) ? undefined : asRecord(current, now);
    });
    if (found !== undefined) return found;
    return this.locked(() => {
      const now = this.clock();
      return asRecord(this.currentLeader(now), now);
    });
  }

  // A member writes only its own record, and whole: no lock is needed.
  async publishMember(name: string, state: unknown, ttlMs: number): Promise<void> {
    checkMemberName(name);
    await this.guard(() => writeRecord(join(this.dir, 'members', name), { name, state, expiresAt: this.clock() + ttlMs, boot: this.boot }));
  }

  async members(): Promise<MemberRecord[]> {
    return this.guard(() => {
      const now = this.clock();
      const found: MemberRecord[] = [];
      for (const name of readdirSync(join(this.dir, 'members')).sort()) {
        if (name.startsWith('.')) continue; // a temp file of a write in progress
        const record = readRecord(join(this.dir, 'members', name), isMemberFile);
        // An unreadable or misnamed record is skipped, as an absent member: it cannot vouch for anything.
        if (record === null || isUnreadable(record) || record.name !== name) continue;
        if (record.boot === this.boot && record.expiresAt > now) found.push({ name, state: record.state });
      }
      return found;
    });
  }

  async removeMember(name: string): Promise<void> {
    checkMemberName(name);
    await this.guard(() => removeRecord(join(this.dir, 'members', name)));
  }

  private keyPath(key: string): string {
    return join(this.dir, 'keys', checkKeyName(key));
  }

  /** The key's record; an unreadable one is an error, not an absence: "no intent" must not be guessed. */
  private readKey(path: string): Versioned | null {
    const record = readRecord(path, isKeyFile);
    if (isUnreadable(record)) {
      throw new DcsUnavailableError(`the local DCS record ${path} is unreadable`, { hint: 'inspect it, then remove it or overwrite the key' });
    }
    return record;
  }

  async get(key: string): Promise<Versioned | null> {
    const path = this.keyPath(key);
    return this.guard(() => this.readKey(path));
  }

  async put(key: string, value: unknown, expectVersion?: string | null): Promise<string | null> {
    const path = this.keyPath(key);
    return this.locked(() => {
      if (expectVersion !== undefined && (this.readKey(path)?.version ?? null) !== expectVersion) return null;
      const version = newVersion();
      writeRecord(path, { value: value === undefined ? null : value, version });
      return version;
    });
  }

  async delete(key: string, expectVersion?: string): Promise<boolean> {
    const path = this.keyPath(key);
    return this.locked(() => {
      if (expectVersion !== undefined && this.readKey(path)?.version !== expectVersion) return false;
      return removeRecord(path);
    });
  }

  async close(): Promise<void> {
    /* nothing held between calls */
  }
}
