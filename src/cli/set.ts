import type { Command } from 'commander';
import { resolveClusterDir } from '../cluster/location.js';
import { changeCluster } from '../cluster/open.js';
import { setSync } from '../cluster/set-sync.js';
import { action, printResult, type CommonOptions } from './output.js';
import { intOption, withCommonOptions } from './options.js';

export function registerSet(program: Command): void {
  const set = program.command('set').description('change a cluster setting');
  withCommonOptions(set.command('sync'))
    .description('wait for K synchronous standbys on each commit (ANY K quorum); 0 = asynchronous')
    .argument('<K>', 'number of standbys that must confirm each commit', intOption(0, 100))
    .action(
      action(async (k: number, flags: CommonOptions) => {
        const result = await changeCluster(resolveClusterDir(flags.dir), 'set sync', (cluster) => setSync(cluster, k));
        printResult(flags, result, () => `synchronous_standby_names = '${result.synchronousStandbyNames}'${result.reloaded.length ? ` (reloaded ${result.reloaded.join(', ')})` : ''}`);
      }),
    );
}
