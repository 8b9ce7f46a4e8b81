import type { Command } from 'commander';
import { addReplica, type AddReplicaOptions, type AddReplicaResult } from '../cluster/add-replica.js';
import { resolveClusterDir } from '../cluster/location.js';
import { changeCluster, openCluster } from '../cluster/open.js';
import { startAgentFor } from '../ha/enable.js';
import { action, printResult, type CommonOptions } from './output.js';
import { intOption, withCommonOptions } from './options.js';
import { progressPrinter } from './progress.js';

interface AddFlags extends CommonOptions {
  readonly name?: string;
  readonly from?: string;
  readonly delay?: string;
  readonly sync?: boolean;
  readonly port?: number;
}

/** What `pgrepl add-replica` does (the console's too): clone under the cluster lock; under HA, start its agent. */
export function runAddReplica(root: string, options: AddReplicaOptions): Promise<AddReplicaResult & { agent: Awaited<ReturnType<typeof startAgentFor>> | null }> {
  return changeCluster(root, 'add-replica', async (cluster) => {
    const added = await addReplica(cluster, options);
    // Under HA the new node gets its own agent, which runs it from now on.
    const agent = cluster.spec.ha ? await startAgentFor(await openCluster(cluster.layout.root), added.node.name, options.onEvent) : null;
    return { ...added, agent };
  });
}

export function registerAddReplica(program: Command): void {
  withCommonOptions(program.command('add-replica'))
    .description('clone a new replica (cascading with --from a replica, delayed with --delay)')
    .option('--name <NAME>', 'node name (default: the next pgN)')
    .option('--from <NODE>', 'upstream to stream from (default: the primary); a replica makes it cascading')
    .option('--delay <DURATION>', 'apply WAL this long after the primary (recovery_min_apply_delay), e.g. 5min')
    .option('--sync', 'make it a synchronous standby (quorum K becomes at least 1)')
    .option('--port <P>', 'its port (default: the next free after the cluster\'s)', intOption(1024, 65535))
    .action(
      action(async (flags: AddFlags) => {
        const result = await runAddReplica(resolveClusterDir(flags.dir), {
          sync: Boolean(flags.sync),
          onEvent: progressPrinter(Boolean(flags.json)),
          ...(flags.name ? { name: flags.name } : {}),
          ...(flags.from ? { from: flags.from } : {}),
          ...(flags.delay ? { delay: flags.delay } : {}),
          ...(flags.port ? { port: flags.port } : {}),
        });
        printResult(flags, result, () =>
          `${result.node.name} streams from ${result.node.upstream} on ${result.node.host}:${result.node.port}${result.node.delay ? `, applying ${result.node.delay} late` : ''}${flags.sync ? ` (synchronous, quorum ${result.sync})` : ''}`,
        );
      }),
    );
}
