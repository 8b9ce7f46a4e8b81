import type { Command } from 'commander';
import { failover, type FailoverResult } from '../cluster/failover.js';
import { resolveClusterDir } from '../cluster/location.js';
import { changeCluster, openCluster } from '../cluster/open.js';
import { readIntent } from '../cluster/intent.js';
import { resumeFailover, type Resumed } from '../cluster/resume.js';
import { haFailover } from '../ha/failover.js';
import { action, printResult, type CommonOptions } from './output.js';
import { withCommonOptions } from './options.js';
import { progressPrinter } from './progress.js';

interface FailoverFlags extends CommonOptions {
  readonly to?: string;
  readonly force?: boolean;
}

function syncNote(result: FailoverResult): string {
  if (!result.synchronous) return '';
  if (result.uncomparedQuorumMembers.length === 0) return ' (synchronous mode: no acknowledged commit is in it)';
  return ` (synchronous mode, but ${result.uncomparedQuorumMembers.join(', ')} could not be compared: an acknowledged commit may be only there)`;
}

/** The first line of a resumed command's report. */
export function resumedLine(resumed: Resumed): string {
  return `finished the interrupted ${resumed.op} from ${resumed.from} (it had reached step \`${resumed.step}\`): ${resumed.reason}`;
}

export function registerFailover(program: Command): void {
  withCommonOptions(program.command('failover'))
    .description('promote a replica because the primary is lost; the old primary is fenced (finishes an interrupted failover)')
    .option('--to <NAME>', 'the replica to promote (default: the one that received the most WAL)')
    .option('--force', 'fail over even if the primary answers, or to a replica behind another')
    .action(
      action(async (flags: FailoverFlags) => {
        const options = { force: Boolean(flags.force), onEvent: progressPrinter(Boolean(flags.json)), ...(flags.to ? { to: flags.to } : {}) };
        const root = resolveClusterDir(flags.dir);
        const opened = await openCluster(root);
        const viaAgents = opened.spec.ha ? await haFailover(opened, flags.to, options.force, options.onEvent) : null;
        if (viaAgents) {
          printResult(flags, viaAgents, () => `${viaAgents.to} is the primary, elected by the HA agents${viaAgents.from ? ` (from ${viaAgents.from})` : ''}; total ${viaAgents.totalMs} ms`);
          return;
        }
        const result = await changeCluster(root, 'failover', async (cluster) => {
          const intent = await readIntent(cluster.layout);
          return intent ? resumeFailover(cluster, intent, options) : failover(cluster, options);
        });
        if (!('promotedInMs' in result)) {
          printResult(flags, result, () => `${resumedLine(result.resumed)}\n${result.to} is the primary; total ${result.totalMs} ms\n${result.from} is fenced; bring it back with \`pgrepl rejoin ${result.from}\``);
          return;
        }
        const lost = result.walBytesNotOnNewPrimary === null ? 'unknown (old primary WAL unreadable)' : `${result.walBytesNotOnNewPrimary} bytes`;
        printResult(flags, result, () =>
          [
            ...('resumed' in result ? [resumedLine(result.resumed as Resumed)] : []),
            `failed over: ${result.to} is the primary (promoted in ${result.promotedInMs} ms; total ${result.totalMs} ms)`,
            `${result.fenced.node} is fenced${result.fenced.wasRunning ? ' (it was running and was stopped)' : ''}; bring it back with \`pgrepl rejoin ${result.fenced.node}\``,
            `WAL on ${result.from} not on ${result.to}: ${lost}${syncNote(result)}`,
          ].join('\n'),
        );
      }),
    );
}
