import { randomBytes } from 'node:crypto';
import { lstatSync, unlinkSync } from 'node:fs';
import { readFileNoFollowSync, UnsafePathError, writeFileAtomicSync } from '../../util/safe-fs.js';

/**
 * The records of the local DCS, one JSON file each, replaced whole (temp file + rename) so a reader
 * sees the old record or the new one, never a mix, and validated when read.
 *
 * Expiry times are on a clock every process on the host shares (CLOCK_MONOTONIC by default, which
 * no NTP step moves) and carry the boot they were written in: a record from an earlier boot has
 * expired, whatever its number says, since every process of that boot is gone.
 */

export interface LeaderFile {
  readonly holder: string;
  readonly expiresAt: number;
  readonly boot: string;
}

export interface MemberFile {
  readonly name: string;
  readonly state: unknown;
  readonly expiresAt: number;
  readonly boot: string;
}

export interface KeyFile {
  readonly value: unknown;
  readonly version: string;
}

/** A file that exists but does not hold a valid record; `mtimeMs` is its wall-clock write time. */
export interface Unreadable {
  readonly unreadable: true;
  readonly mtimeMs: number;
}

type Check<T> = (o: Record<string, unknown>) => o is Record<string, unknown> & T;

const isString = (v: unknown): v is string => typeof v === 'string';
const isTime = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);

export const isLeaderFile: Check<LeaderFile> = (o): o is Record<string, unknown> & LeaderFile =>
  isString(o.holder) && isTime(o.expiresAt) && isString(o.boot);
export const isMemberFile: Check<MemberFile> = (o): o is Record<string, unknown> & MemberFile =>
  isString(o.name) && 'state' in o && isTime(o.expiresAt) && isString(o.boot);
export const isKeyFile: Check<KeyFile> = (o): o is Record<string, unknown> & KeyFile => 'value' in o && isString(o.version);

/** The record at `path`: null when absent, `Unreadable` when present but not a valid record. */
export function readRecord<T>(path: string, check: Check<T>): T | Unreadable | null {
  let text: string;
  try {
    text = readFileNoFollowSync(path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return null;
    // A symlink, a FIFO or a directory where a record belongs: present, not valid.
    if (!(error instanceof UnsafePathError) && code !== 'ELOOP' && code !== 'EINVAL' && code !== 'EISDIR') throw error;
    return unreadable(path);
  }
  try {
    const parsed: unknown = JSON.parse(text);
    if (parsed !== null && typeof parsed === 'object' && check(parsed as Record<string, unknown>)) return parsed as T;
  } catch {
    /* falls through */
  }
  return unreadable(path);
}

function unreadable(path: string): Unreadable | null {
  const stat = lstatSync(path, { throwIfNoEntry: false });
  return stat ? { unreadable: true, mtimeMs: stat.mtimeMs } : null;
}

export function isUnreadable(record: unknown): record is Unreadable {
  return record !== null && typeof record === 'object' && (record as Partial<Unreadable>).unreadable === true;
}

/** Replaces the record at `path`; synchronous, so it fits in a lock's critical section. */
export function writeRecord(path: string, record: LeaderFile | MemberFile | KeyFile): void {
  writeFileAtomicSync(path, `${JSON.stringify(record)}\n`, 0o600);
}

/** Removes the record at `path`; false when there was none. */
export function removeRecord(path: string): boolean {
  try {
    unlinkSync(path);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw error;
  }
}

export function newVersion(): string {
  return randomBytes(8).toString('hex');
}
