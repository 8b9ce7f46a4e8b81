import type { Command } from 'commander';
import { resolveClusterDir } from '../cluster/location.js';
import { changeCluster } from '../cluster/open.js';
import { rejoin } from '../cluster/rejoin.js';
import { action, printResult, type CommonOptions } from './output.js';
import { withCommonOptions } from './options.js';
import { progressPrinter } from './progress.js';

interface RejoinFlags extends CommonOptions {
  readonly reclone?: boolean;
}

export function registerRejoin(program: Command): void {
  withCommonOptions(program.command('rejoin'))
    .description('make a former primary (or diverged node) a streaming replica again, with pg_rewind')
    .argument('<NAME>', 'node name')
    .option('--reclone', 'clone it afresh instead of rewinding (its data is replaced)')
    .action(
      action(async (name: string, flags: RejoinFlags) => {
        const options = { reclone: Boolean(flags.reclone), onEvent: progressPrinter(Boolean(flags.json)) };
        const result = await changeCluster(resolveClusterDir(flags.dir), 'rejoin', (cluster) => rejoin(cluster, name, options));
        printResult(flags, result, () =>
          result.method === 'none' ? `${name} already streams from ${result.upstream}` : `${name} streams from ${result.upstream} again (${result.method}, ${result.totalMs} ms)`,
        );
      }),
    );
}
