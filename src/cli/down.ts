import type { Command } from 'commander';
import { destroy, down } from '../cluster/down.js';
import { resolveClusterDir } from '../cluster/location.js';
import { changeCluster } from '../cluster/open.js';
import { action, printResult, type CommonOptions } from './output.js';
import { withCommonOptions } from './options.js';
import { progressPrinter } from './progress.js';
import { stopAgents } from '../ha/enable.js';

interface DownFlags extends CommonOptions {
  readonly destroy?: boolean;
}

export function registerDown(program: Command): void {
  withCommonOptions(program.command('down'))
    .description('stop every node cleanly, keeping data (--destroy also deletes the cluster)')
    .option('--destroy', 'also delete the cluster directory (only one pgrepl created)')
    .action(
      action(async (flags: DownFlags) => {
        const root = resolveClusterDir(flags.dir);
        const onEvent = progressPrinter(Boolean(flags.json));
        const { stopped, kept } = await changeCluster(root, 'down', async (cluster) => {
          if (cluster.spec.ha) await stopAgents(cluster, onEvent);
          const names = await down(cluster, onEvent);
          return { stopped: names, kept: flags.destroy ? await destroy(cluster) : [] };
        });
        const result = { dir: root, stopped, destroyed: Boolean(flags.destroy), kept };
        printResult(flags, result, () =>
          [`stopped ${stopped.length > 0 ? stopped.join(', ') : 'nothing (no node was running)'}`, flags.destroy ? (kept.length ? `deleted what pgrepl made in ${root}; left what it did not: ${kept.join(', ')}` : `deleted ${root}`) : 'data kept; `pgrepl up` starts it again'].join('\n'),
        );
      }),
    );
}
