import type { Command } from 'commander';
import { resolveClusterDir } from '../cluster/location.js';
import type { Cluster } from '../cluster/context.js';
import { openCluster } from '../cluster/open.js';
import { requireHa } from '../ha/config.js';
import { openClusterDcs } from '../ha/enable.js';
import { setPaused } from '../ha/pause.js';
import { action, printResult, type CommonOptions } from './output.js';
import { withCommonOptions } from './options.js';

/** What `pgrepl pause` / `resume` do (the console's too): refused without HA. */
export async function runSetPaused(root: string, paused: boolean): Promise<Cluster> {
  const cluster = await openCluster(root);
  requireHa(cluster.spec);
  const dcs = await openClusterDcs(cluster);
  try {
    await setPaused(dcs, paused, 'user');
  } finally {
    await dcs.close();
  }
  return cluster;
}

async function setPause(flags: CommonOptions, paused: boolean): Promise<void> {
  const cluster = await runSetPaused(resolveClusterDir(flags.dir), paused);
  printResult(flags, { dir: cluster.layout.root, paused }, () =>
    paused ? 'paused: the agents keep watching and report, but fail over and restart nothing until `pgrepl resume`' : 'resumed: automatic failover is on',
  );
}

export function registerPause(program: Command): void {
  withCommonOptions(program.command('pause'))
    .description('HA: stop automatic decisions (maintenance); the agents keep reporting')
    .action(action(async (flags: CommonOptions) => setPause(flags, true)));
  withCommonOptions(program.command('resume'))
    .description('HA: restart automatic decisions after `pgrepl pause`')
    .action(action(async (flags: CommonOptions) => setPause(flags, false)));
}
