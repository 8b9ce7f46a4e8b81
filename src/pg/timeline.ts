import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { readFileNoFollowSync } from '../util/safe-fs.js';
import { parseLsn, type Lsn } from './lsn.js';

/** One line of a timeline history file: a parent timeline, and where its child branched off it. */
export interface TimelineBranch {
  readonly parent: number;
  readonly switchPoint: Lsn;
}

export function historyFileName(timeline: number): string {
  return `${timeline.toString(16).toUpperCase().padStart(8, '0')}.history`;
}

/** The branches in a history file's text, oldest first ("1\t0/4015E48\tno recovery target specified"). */
export function parseHistory(text: string): TimelineBranch[] {
  return text.split('\n').flatMap((line) => {
    const [parent, at] = line.trim().split(/\s+/);
    return parent !== undefined && /^\d+$/.test(parent) && at !== undefined && /^[0-9A-F]+\/[0-9A-F]+$/i.test(at) ? [{ parent: Number(parent), switchPoint: parseLsn(at) }] : [];
  });
}

/** The history of `timeline` as a data directory's pg_wal holds it; empty if it has none. */
export function readHistory(dataDir: string, timeline: number): TimelineBranch[] {
  try {
    return parseHistory(readFileNoFollowSync(join(dataDir, 'pg_wal', historyFileName(timeline))));
  } catch {
    return [];
  }
}

/**
 * The newest timeline a data directory has reached: its control file's, or a newer one its pg_wal
 * has a history file for (a promotion shows in the control file only at the next checkpoint, and
 * a standby that followed one may not have made a restartpoint on it yet).
 */
export function newestTimeline(dataDir: string, controlTimeline: number): number {
  let files: string[] = [];
  try {
    files = readdirSync(join(dataDir, 'pg_wal'));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  const histories = files.flatMap((f) => (/^[0-9A-F]{8}\.history$/.test(f) ? [Number.parseInt(f.slice(0, 8), 16)] : []));
  return Math.max(controlTimeline, ...histories);
}

/** Where `timeline` branched off `parent`, by the history `dataDir` holds; null if it did not. */
export function branchPoint(dataDir: string, timeline: number, parent: number): Lsn | null {
  return readHistory(dataDir, timeline).find((b) => b.parent === parent)?.switchPoint ?? null;
}
