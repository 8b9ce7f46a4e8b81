import type { Command } from 'commander';
import { resolveClusterDir } from '../cluster/location.js';
import { changeCluster } from '../cluster/open.js';
import { removeReplica } from '../cluster/remove-replica.js';
import { action, printResult, type CommonOptions } from './output.js';
import { withCommonOptions } from './options.js';
import { progressPrinter } from './progress.js';

interface RemoveFlags extends CommonOptions {
  readonly keepData?: boolean;
  readonly reattachTo?: string;
}

export function registerRemoveReplica(program: Command): void {
  withCommonOptions(program.command('remove-replica'))
    .description('stop a replica, drop its slot, and take it out of the cluster')
    .argument('<NAME>', 'node name')
    .option('--keep-data', 'keep its data directory')
    .option('--reattach-to <NODE>', 'where replicas that stream from it should stream from instead')
    .action(
      action(async (name: string, flags: RemoveFlags) => {
        const result = await changeCluster(resolveClusterDir(flags.dir), 'remove-replica', (cluster) => removeReplica(cluster, name, {
          keepData: Boolean(flags.keepData),
          onEvent: progressPrinter(Boolean(flags.json)),
          ...(flags.reattachTo ? { reattachTo: flags.reattachTo } : {}),
        }));
        printResult(flags, result, () => `removed ${name}${result.reattached.length ? `; ${result.reattached.join(', ')} moved to ${flags.reattachTo}` : ''}${result.dataKept ? ' (data kept)' : ''}`);
      }),
    );
}
