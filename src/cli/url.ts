import type { Command } from 'commander';
import { resolveClusterDir } from '../cluster/location.js';
import { openCluster } from '../cluster/open.js';
import { clusterUrl } from '../cluster/url.js';
import { action, printResult, type CommonOptions } from './output.js';
import { withCommonOptions } from './options.js';

export function registerUrl(program: Command): void {
  withCommonOptions(program.command('url'))
    .description('a libpq URI for one node, or (no NAME) one that always reaches the primary')
    .argument('[NAME]', 'node name')
    .action(
      action(async (name: string | undefined, flags: CommonOptions) => {
        const cluster = await openCluster(resolveClusterDir(flags.dir));
        const url = clusterUrl(cluster, name);
        printResult(flags, { url }, () => url);
      }),
    );
}
