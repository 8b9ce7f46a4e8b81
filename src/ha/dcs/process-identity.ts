import { readFileSync } from 'node:fs';

/**
 * A process named so that a reused pid is not mistaken for it: its pid and its start time (clock
 * ticks since boot, field 22 of /proc/PID/stat). Lock files of the local DCS carry one.
 */
export interface ProcessIdentity {
  readonly pid: number;
  readonly startTime: string;
}

/** What /proc says of `pid`: null when it does not exist. */
function readStat(pid: number): { state: string; startTime: string } | null {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return null;
  }
  // The command name (field 2) is in parentheses and may itself contain spaces and ')'.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return { state: fields[0] ?? '', startTime: fields[19] ?? '' };
}

let self: ProcessIdentity | undefined;

/** This process. */
export function selfIdentity(): ProcessIdentity {
  if (!self) {
    const stat = readStat(process.pid);
    if (!stat) throw new Error('/proc/self/stat is unreadable: the local DCS needs Linux /proc');
    self = { pid: process.pid, startTime: stat.startTime };
  }
  return self;
}

/**
 * Whether the process is still running. A zombie (Z) or dying (X) process counts as dead: PID 1 on
 * some hosts does not reap orphans, so a SIGKILLed holder can stay a zombie forever, and a zombie
 * never runs another instruction. A pid now used by a process started at another time is dead too.
 */
export function isRunning(identity: ProcessIdentity): boolean {
  const stat = readStat(identity.pid);
  if (!stat) return false;
  return stat.state !== 'Z' && stat.state !== 'X' && stat.startTime === identity.startTime;
}
