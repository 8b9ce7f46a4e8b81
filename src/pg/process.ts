import { spawn } from 'node:child_process';
import { closeSync, constants, fchownSync, fstatSync, openSync } from 'node:fs';
import { unsafePath } from '../util/safe-fs.js';
import type { OsUser } from './os-user.js';
import { PgCommandError } from './errors.js';

/**
 * The one place pgrepl starts PostgreSQL programs. Children get a clean environment (no inherited
 * PG* variables that could redirect them) and run as the PostgreSQL OS user. Secrets reach them
 * only through files named in the environment or in a conninfo (passfile=), never through argv.
 */
export interface ProgramOptions {
  readonly user: OsUser;
  readonly cwd: string;
  readonly env?: Readonly<Record<string, string>>;
  /** Called with each chunk the program writes to stderr, for progress parsing. */
  readonly onStderr?: (chunk: string) => void;
}

/** Programs started by runProgram that have not exited yet: the only pids pgrepl ever signals on interrupt. */
const running = new Set<number>();

/** Sends `signal` to every program runProgram started that is still running (daemons are not included). */
export function terminateRunningPrograms(signal: NodeJS.Signals = 'SIGTERM'): number[] {
  const pids = [...running];
  for (const pid of pids) {
    try {
      process.kill(pid, signal);
    } catch {
      running.delete(pid);
    }
  }
  return pids;
}

export interface ProgramResult {
  readonly stdout: string;
  readonly stderr: string;
}

function childEnv(user: OsUser, extra: Readonly<Record<string, string>> = {}): NodeJS.ProcessEnv {
  return { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: user.home, LANG: 'C', LC_ALL: 'C', ...extra };
}

function identity(user: OsUser): { uid?: number; gid?: number } {
  return user.switchTo ? { uid: user.uid, gid: user.gid } : {};
}

function tail(text: string, lines = 6): string {
  return text.trim().split('\n').slice(-lines).join('\n');
}

/** Runs a program to completion; a non-zero exit becomes a PgCommandError with its last output lines. */
export function runProgram(file: string, args: readonly string[], options: ProgramOptions): Promise<ProgramResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, {
      cwd: options.cwd,
      env: childEnv(options.user, options.env),
      stdio: ['ignore', 'pipe', 'pipe'],
      ...identity(options.user),
    });
    const pid = child.pid;
    if (pid !== undefined) running.add(pid);
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      stderr += chunk;
      options.onStderr?.(chunk);
    });
    child.once('error', (error) => reject(new PgCommandError(`cannot run ${file}: ${error.message}`, { cause: error })));
    child.once('close', (code, signal) => {
      if (pid !== undefined) running.delete(pid);
      if (code === 0) return resolve({ stdout, stderr });
      const how = signal ? `was killed by ${signal}` : `exited with code ${code}`;
      reject(new PgCommandError(`${file.split('/').pop()} ${how}: ${tail(stderr || stdout)}`));
    });
  });
}

/**
 * Opens (creating it, 0600, the server user's) the log a daemon appends to. It sits in a directory
 * the server user owns, so whatever is found there is refused unless it is a regular file with one
 * link: O_NOFOLLOW refuses a planted symlink, O_NONBLOCK a FIFO (no waiting for a reader that never
 * comes, which would hang pgrepl holding the cluster lock), and a hard link to another file (were
 * the kernel's protected_hardlinks off) would hand root's file to the server as its stdout.
 */
function openLog(logFile: string, user: OsUser): number {
  let fd: number;
  try {
    fd = openSync(logFile, constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT | constants.O_NOFOLLOW | constants.O_NONBLOCK, 0o600);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ELOOP' || code === 'ENXIO') throw new PgCommandError(`${logFile} is ${code === 'ELOOP' ? 'a symlink' : 'a FIFO, not a regular file'}; pgrepl will not use it`, { hint: 'pgrepl never makes such a file there (the PostgreSQL OS account, or someone else, did): move it away and run the command again' });
    throw error;
  }
  try {
    const stats = fstatSync(fd);
    if (!stats.isFile()) throw unsafePath(logFile, stats, 'regular file');
    if (stats.nlink !== 1) throw new PgCommandError(`${logFile} has ${stats.nlink} hard links; pgrepl will not append to it`, { hint: 'move it away and run the command again' });
    if (user.switchTo && stats.uid !== user.uid) fchownSync(fd, user.uid, user.gid);
  } catch (error) {
    closeSync(fd);
    throw error;
  }
  return fd;
}

/**
 * Starts a long-lived server detached from pgrepl (its own session, output appended to `logFile`)
 * and returns its pid. The caller decides how to wait for it to become ready.
 */
export function spawnDaemon(file: string, args: readonly string[], logFile: string, options: ProgramOptions): number {
  const log = openLog(logFile, options.user);
  try {
    const child = spawn(file, args, {
      cwd: options.cwd,
      env: childEnv(options.user, options.env),
      stdio: ['ignore', log, log],
      detached: true,
      ...identity(options.user),
    });
    if (child.pid === undefined) throw new PgCommandError(`cannot start ${file}`);
    child.unref();
    return child.pid;
  } finally {
    closeSync(log);
  }
}
