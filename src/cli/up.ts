import type { Command } from 'commander';
import { resolveClusterDir } from '../cluster/location.js';
import { up, type UpResult } from '../cluster/up.js';
import { PgreplError } from '../errors.js';
import { terminateRunningPrograms } from '../pg/process.js';
import { action, printResult, reportError, type CommonOptions } from './output.js';
import { intOption, withCommonOptions } from './options.js';
import { progressPrinter } from './progress.js';

interface UpFlags extends CommonOptions {
  readonly replicas?: number;
  readonly port?: number;
  readonly bindir?: string;
  readonly osUser?: string;
  readonly sync?: number;
}

class InterruptedError extends PgreplError {}

/**
 * On SIGINT/SIGTERM, stops the programs pgrepl started (a pg_basebackup mid-clone), says what is
 * left, and exits. A half-built replica is marked `cloning`, so the next `up` redoes only that.
 * Servers already started keep running: they are whole.
 */
function exitOnInterrupt(flags: UpFlags): () => void {
  const handler = (signal: NodeJS.Signals): void => {
    terminateRunningPrograms('SIGTERM');
    reportError(flags, new InterruptedError(`interrupted by ${signal}; a replica being cloned is left half-built and marked so`, {
      hint: 'run `pgrepl up` again: it removes only the half-built clone and clones it again',
    }));
    process.exit(signal === 'SIGINT' ? 130 : 143);
  };
  process.once('SIGINT', handler);
  process.once('SIGTERM', handler);
  return () => {
    process.off('SIGINT', handler);
    process.off('SIGTERM', handler);
  };
}

function describe(result: UpResult): string {
  const dirFlag = ` --dir ${result.dir}`;
  return [
    `${result.created ? 'created' : 'converged'} cluster in ${result.dir}`,
    `primary ${result.primary} is up`,
    ...result.proofs.map((p) => `replica ${p.node} is streaming and replayed a probe written at ${p.probeLsn}`),
    '',
    `connect:  pgrepl psql${dirFlag}`,
    `status:   pgrepl status${dirFlag}`,
    `stop:     pgrepl down${dirFlag}`,
  ].join('\n');
}

export function registerUp(program: Command): void {
  withCommonOptions(program.command('up'))
    .description('create or start the cluster and prove every replica streams')
    .option('--replicas <N>', 'number of replicas (default 1 for a new cluster)', intOption(0, 50))
    .option('--port <P>', 'port of the first node; the others get P+1, P+2, ...', intOption(1024, 65535))
    .option('--sync <K>', 'synchronous quorum: each commit waits for K replicas (0 = asynchronous)', intOption(0, 50))
    .option('--bindir <DIR>', 'directory of the PostgreSQL server programs')
    .option('--os-user <USER>', 'OS user that runs PostgreSQL when pgrepl runs as root (default postgres)')
    .action(
      action(async (flags: UpFlags) => {
        const release = exitOnInterrupt(flags);
        try {
          const result = await up({ ...flags, root: resolveClusterDir(flags.dir), onEvent: progressPrinter(Boolean(flags.json)) });
          printResult(flags, result, () => describe(result));
        } finally {
          release();
        }
      }),
    );
}
