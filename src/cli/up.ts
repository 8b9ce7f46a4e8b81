import type { Command } from 'commander';
import { resolveClusterDir } from '../cluster/location.js';
import { up, type UpResult } from '../cluster/up.js';
import { action, printResult, type CommonOptions } from './output.js';
import { intOption, withCommonOptions } from './options.js';
import { progressPrinter } from './progress.js';

interface UpFlags extends CommonOptions {
  readonly replicas?: number;
  readonly port?: number;
  readonly bindir?: string;
  readonly osUser?: string;
  readonly sync?: number;
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
        const result = await up({ ...flags, root: resolveClusterDir(flags.dir), onEvent: progressPrinter(Boolean(flags.json)) });
        printResult(flags, result, () => describe(result));
      }),
    );
}
