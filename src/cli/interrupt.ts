import { PgreplError } from '../errors.js';
import { terminateRunningPrograms } from '../pg/process.js';
import { runInterruptCleanups } from '../util/cleanup.js';
import { markInterrupted, reportError } from './output.js';

class InterruptedError extends PgreplError {}

const CLEANUP_MS = 3000;

/**
 * On SIGINT/SIGTERM: stop the programs pgrepl started (a pg_basebackup mid-clone, a pg_rewind),
 * say what may be left, and exit 130/143. Servers already started keep running: they are whole.
 * What a command leaves partway is marked (a clone `cloning`, a stopped old primary `diverged`), so
 * the next `up` or `rejoin` finishes or refuses it rather than guessing; the cluster lock it held
 * names a dead pid and is taken over. What must not outlive the command (a promotion's short retry
 * interval) is undone by the cleanups registered for it, given at most CLEANUP_MS.
 */
/** Commands that clone or rebuild a node: only they can leave one half-built. */
const BUILDING = new Set(['up', 'add-replica', 'rejoin']);

function interruptedError(signal: NodeJS.Signals): InterruptedError {
  const command = process.argv.slice(2).find((a) => !a.startsWith('-'));
  if (command === 'failover' || command === 'switchover') {
    return new InterruptedError(`interrupted by ${signal}`, { hint: `run \`pgrepl status\`: if it shows the ${command} INTERRUPTED, \`pgrepl ${command}\` again finishes it from the step it reached` });
  }
  if (command === undefined || !BUILDING.has(command)) return new InterruptedError(`interrupted by ${signal}`, { hint: 'run `pgrepl status` to see where the cluster stands' });
  return new InterruptedError(`interrupted by ${signal}; a replica being cloned is left half-built and marked so`, {
    hint: 'run `pgrepl status`, then `pgrepl up`: it removes only a half-built clone and clones it again',
  });
}

export function exitOnInterrupt(): void {
  const handler = (signal: NodeJS.Signals): void => {
    markInterrupted();
    terminateRunningPrograms('SIGTERM');
    reportError({ json: process.argv.includes('--json') }, interruptedError(signal));
    const exit = (): never => process.exit(signal === 'SIGINT' ? 130 : 143);
    void Promise.race([runInterruptCleanups(), new Promise((resolve) => setTimeout(resolve, CLEANUP_MS))]).then(exit, exit);
  };
  process.once('SIGINT', handler);
  process.once('SIGTERM', handler);
}
