import type { Command } from 'commander';
import { resolveClusterDir } from '../cluster/location.js';
import { openCluster } from '../cluster/open.js';
import { UsageError } from '../errors.js';
import { runAgentProcess } from '../ha/process.js';
import { systemdUnit } from '../ha/systemd-unit.js';
import { action, type CommonOptions } from './output.js';
import { withCommonOptions } from './options.js';

interface AgentFlags extends CommonOptions {
  readonly node?: string;
  readonly dcs?: string;
  readonly systemdUnit?: boolean;
}

export function registerAgent(program: Command): void {
  withCommonOptions(program.command('agent'))
    .description('run the HA agent of one node: health checks, leader lease, automatic failover')
    .option('--node <NAME>', 'the node this agent supervises')
    .option('--dcs <URL>', 'the DCS: local, or etcd://host:port[,host:port...] (default: the spec\'s)')
    .option('--systemd-unit', 'print a systemd unit that runs this agent, and exit')
    .action(
      action(async (flags: AgentFlags) => {
        if (!flags.node) throw new UsageError('which node? --node NAME is required', { hint: 'see `pgrepl status` for the node names' });
        const root = resolveClusterDir(flags.dir);
        if (flags.systemdUnit) {
          process.stdout.write(systemdUnit({ node: process.execPath, script: process.argv[1]! }, root, flags.node, flags.dcs));
          return;
        }
        await runAgentProcess(await openCluster(root), flags.node, flags.dcs);
      }),
    );
}
