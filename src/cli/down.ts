import { existsSync } from 'node:fs';
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

function destroyedText(root: string, dirRemoved: boolean, kept: readonly string[]): string {
  if (dirRemoved) return `deleted ${root}`;
  const left = kept.length > 0 ? `; left what it did not build or what still runs: ${kept.join(', ')}` : '';
  return `deleted what pgrepl made in ${root}; kept the directory itself (pgrepl did not create it, or other files are in it)${left}`;
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
        const dirRemoved = Boolean(flags.destroy) && !existsSync(root);
        const result = { dir: root, stopped, destroyed: Boolean(flags.destroy), dirRemoved, kept };
        printResult(flags, result, () => [`stopped ${stopped.length > 0 ? stopped.join(', ') : 'nothing (no node was running)'}`, flags.destroy ? destroyedText(root, dirRemoved, kept) : 'data kept; `pgrepl up` starts it again'].join('\n'));
      }),
    );
}
