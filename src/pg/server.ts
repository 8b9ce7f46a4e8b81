import type { PgBinaries } from './binaries.js';
import { ServerError } from './errors.js';
import type { OsUser } from './os-user.js';
import { clearStaleLock, isAlive, livePostmaster, readPostmasterPid } from './postmaster-pid.js';
import { spawnDaemon } from './process.js';
import { renderServerOptions, type Setting } from './settings.js';
import { waitFor } from '../util/wait.js';
import { readFileNoFollow } from '../util/safe-fs.js';

/** One PostgreSQL instance on this machine: where its files are and who runs it. */
export interface Instance {
  readonly name: string;
  readonly dataDir: string;
  readonly logFile: string;
  readonly user: OsUser;
  readonly bin: PgBinaries;
}

export type ShutdownMode = 'smart' | 'fast' | 'immediate';
const SHUTDOWN_SIGNAL: Record<ShutdownMode, NodeJS.Signals> = { smart: 'SIGTERM', fast: 'SIGINT', immediate: 'SIGQUIT' };

async function logTail(logFile: string, lines = 5): Promise<string> {
  try {
    return (await readFileNoFollow(logFile)).trim().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

/**
 * Starts the postmaster directly (not through `pg_ctl -w`, which checks only every 100 ms) and
 * returns once postmaster.pid says it accepts connections: `ready` for a primary, `standby` for a
 * hot standby. If the postmaster dies first, the error carries the end of its log. `overrides`
 * are given on the command line, where they outrank every configuration file.
 */
export async function startServer(instance: Instance, timeoutMs = 60_000, overrides: readonly Setting[] = []): Promise<number> {
  const running = await livePostmaster(instance.dataDir);
  if (running) return running.pid;
  await clearStaleLock(instance.dataDir);
  const pid = spawnDaemon(instance.bin.path('postgres'), ['-D', instance.dataDir, ...renderServerOptions(overrides)], instance.logFile, {
    user: instance.user,
    cwd: instance.dataDir,
  });
  await waitFor(
    async () => {
      const info = await readPostmasterPid(instance.dataDir);
      if (info?.pid === pid && (info.status === 'ready' || info.status === 'standby')) return true;
      if (!isAlive(pid)) {
        throw new ServerError(`${instance.name} failed to start; end of ${instance.logFile}:\n${await logTail(instance.logFile)}`);
      }
      return undefined;
    },
    { what: `${instance.name} to accept connections (log: ${instance.logFile})`, timeoutMs, intervalMs: 5 },
  );
  return pid;
}

/** Stops the server with the given shutdown mode and waits for the postmaster to exit. */
export async function stopServer(instance: Instance, mode: ShutdownMode = 'fast', timeoutMs = 60_000): Promise<boolean> {
  const running = await livePostmaster(instance.dataDir);
  if (!running) return false;
  process.kill(running.pid, SHUTDOWN_SIGNAL[mode]);
  await waitFor(() => (isAlive(running.pid) ? undefined : true), {
    what: `${instance.name} (pid ${running.pid}) to shut down`,
    timeoutMs,
    intervalMs: 5,
  });
  return true;
}

/**
 * Asks a running server to reload its configuration files, by the signal `pg_ctl reload` sends:
 * no connection needed, so it works while the server refuses connections. False if it is not running.
 */
export async function reloadServer(instance: Instance): Promise<boolean> {
  const running = await livePostmaster(instance.dataDir);
  if (!running) return false;
  process.kill(running.pid, 'SIGHUP');
  return true;
}

export async function isRunning(instance: Instance): Promise<boolean> {
  return (await livePostmaster(instance.dataDir)) !== null;
}
