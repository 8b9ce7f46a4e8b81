import { spawn } from 'node:child_process';
import type { Command } from 'commander';
import { resolveClusterDir } from '../cluster/location.js';
import { openCluster } from '../cluster/open.js';
import { clusterUrl } from '../cluster/url.js';
import { action, type CommonOptions } from './output.js';
import { withCommonOptions } from './options.js';

export function registerPsql(program: Command): void {
  withCommonOptions(program.command('psql'))
    .description('open psql on a node (default: the primary); arguments after -- go to psql')
    .argument('[NAME]', 'node name')
    .argument('[ARGS...]', 'psql arguments (after --)')
    .action(
      action(async (_name: string | undefined, _args: string[], flags: CommonOptions) => {
        // Only what stands before `--` can be the node name; everything after goes to psql.
        const dash = process.argv.indexOf('--');
        const before = (dash < 0 ? process.argv : process.argv.slice(0, dash)).slice(process.argv.indexOf('psql') + 1).filter((a) => !a.startsWith('-'));
        const name = before.find((a) => a !== flags.dir);
        const args = dash < 0 ? [] : process.argv.slice(dash + 1);
        const cluster = await openCluster(resolveClusterDir(flags.dir));
        const url = clusterUrl(cluster, name);
        // Ctrl-C belongs to psql (it cancels the running query); pgrepl only waits for it to exit.
        process.removeAllListeners('SIGINT');
        process.on('SIGINT', () => undefined);
        const code = await new Promise<number>((resolve, reject) => {
          const child = spawn(cluster.bin.path('psql'), [url, ...args], { stdio: 'inherit' });
          child.once('error', reject);
          child.once('exit', (c) => resolve(c ?? 1));
        });
        process.exitCode = code;
      }),
    );
}
