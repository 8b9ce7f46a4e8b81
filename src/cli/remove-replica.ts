import type { Command } from 'commander';
import { resolveClusterDir } from '../cluster/location.js';
import { changeCluster } from '../cluster/open.js';
import { stopAgent } from '../ha/supervise.js';
import { removeReplica, type RemoveReplicaOptions, type RemoveReplicaResult } from '../cluster/remove-replica.js';
import { action, printResult, type CommonOptions } from './output.js';
import { withCommonOptions } from './options.js';
import { progressPrinter } from './progress.js';

interface RemoveFlags extends CommonOptions {
  readonly keepData?: boolean;
  readonly reattachTo?: string;
}

/** What `pgrepl remove-replica` does (the console's too), under the cluster lock. */
export function runRemoveReplica(root: string, name: string, options: RemoveReplicaOptions): Promise<RemoveReplicaResult> {
  return changeCluster(root, 'remove-replica', async (cluster) => {
    // Its agent would start it again: it goes first (and stops its server).
    if (cluster.spec.ha && cluster.spec.nodes.some((n) => n.name === name && n.upstream !== undefined) && (await stopAgent(cluster, name))) {
      options.onEvent({ type: 'step', node: name, message: 'stopped its HA agent' });
    }
    return removeReplica(cluster, name, options);
  });
}

export function registerRemoveReplica(program: Command): void {
  withCommonOptions(program.command('remove-replica'))
    .description('stop a replica, drop its slot, and take it out of the cluster')
    .argument('<NAME>', 'node name')
    .option('--keep-data', 'keep its data directory')
    .option('--reattach-to <NODE>', 'where replicas that stream from it should stream from instead')
    .action(
      action(async (name: string, flags: RemoveFlags) => {
        const result = await runRemoveReplica(resolveClusterDir(flags.dir), name, {
          keepData: Boolean(flags.keepData), onEvent: progressPrinter(Boolean(flags.json)), ...(flags.reattachTo ? { reattachTo: flags.reattachTo } : {}),
        });
        printResult(flags, result, () => `removed ${name}${result.reattached.length ? `; ${result.reattached.join(', ')} moved to ${flags.reattachTo}` : ''}${result.dataKept ? ' (data kept)' : ''}`);
      }),
    );
}
