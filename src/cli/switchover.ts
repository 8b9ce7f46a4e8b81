import type { Command } from 'commander';
import { resolveClusterDir } from '../cluster/location.js';
import { changeCluster, openCluster } from '../cluster/open.js';
import { haSwitchover, type HaSwitchoverResult } from '../ha/switchover.js';
import { readIntent } from '../cluster/intent.js';
import { resumeSwitchover, type Finished, type Resumed } from '../cluster/resume.js';
import { resumedLine } from './failover.js';
import { DEFAULT_MAX_LAG_BYTES, switchover, type SwitchoverOptions, type SwitchoverResult } from '../cluster/switchover.js';
import { action, printResult, type CommonOptions } from './output.js';
import { intOption, withCommonOptions } from './options.js';
import { progressPrinter } from './progress.js';

interface SwitchoverFlags extends CommonOptions {
  readonly to?: string;
  readonly maxLagBytes: number;
}

/** What `pgrepl switchover` does (the console's switchover too): through the agents under HA, else under the cluster lock. */
export async function runSwitchover(root: string, options: SwitchoverOptions): Promise<SwitchoverResult | HaSwitchoverResult | (SwitchoverResult & { resumed: Resumed }) | Finished> {
  const opened = await openCluster(root);
  // Under HA the agents change the cluster (the new leader records itself in the spec, under
  // the lock): this only asks them, through the DCS, and waits.
  return opened.spec.ha
    ? haSwitchover(opened, options.to, options.onEvent)
    : changeCluster(root, 'switchover', async (cluster) => {
        // An interrupted switchover is finished from the step it reached (see resume.ts).
        const intent = await readIntent(cluster.layout);
        return intent ? resumeSwitchover(cluster, intent, options) : switchover(cluster, options);
      });
}

export function registerSwitchover(program: Command): void {
  withCommonOptions(program.command('switchover'))
    .description('planned change of primary with zero lost writes; the old primary comes back as a replica (finishes an interrupted switchover)')
    .option('--to <NAME>', 'the replica to promote (default: the most advanced streaming replica)')
    .option('--max-lag-bytes <N>', 'refuse a candidate further behind than this', intOption(0, Number.MAX_SAFE_INTEGER), DEFAULT_MAX_LAG_BYTES)
    .action(
      action(async (flags: SwitchoverFlags) => {
        const options = { maxLagBytes: flags.maxLagBytes, onEvent: progressPrinter(Boolean(flags.json)), ...(flags.to ? { to: flags.to } : {}) };
        const result = await runSwitchover(resolveClusterDir(flags.dir), options);
        if (!('writeUnavailableMs' in result)) {
          printResult(flags, result, () => `${resumedLine(result.resumed)}\n${result.to} is the primary, ${result.from} streams from it; total ${result.totalMs} ms`);
          return;
        }
        printResult(flags, result, () =>
          ('resumed' in result ? `${resumedLine(result.resumed as Resumed)}\n` : '') +
          `switched over${'viaAgents' in result ? ' through the HA agents' : ''}: ${result.to} is the primary, ${result.from} streams from it\nwrites were unavailable for ${result.writeUnavailableMs ?? '?'} ms; total ${result.totalMs} ms`,
        );
      }),
    );
}
