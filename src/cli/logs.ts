import type { Command } from 'commander';
import { resolveClusterDir } from '../cluster/location.js';
import { openCluster } from '../cluster/open.js';
import { unknownNode } from '../cluster/url.js';
import { nodeNamed } from '../spec/topology.js';
import { action, printResult, type CommonOptions } from './output.js';
import { intOption, withCommonOptions } from './options.js';

interface LogsFlags extends CommonOptions {
  readonly lines: number;
}

export function registerLogs(program: Command): void {
  withCommonOptions(program.command('logs'))
    .description("the end of a node's server log (default: every node)")
    .argument('[NAME]', 'node name')
    .option('-n, --lines <N>', 'lines per node', intOption(1, 100000), 40)
    .action(
      action(async (name: string | undefined, flags: LogsFlags) => {
        const cluster = await openCluster(resolveClusterDir(flags.dir));
        if (name !== undefined && !nodeNamed(cluster.spec, name)) throw unknownNode(cluster, name);
        const nodes = cluster.spec.nodes.filter((n) => name === undefined || n.name === name);
        const logs = await Promise.all(
          nodes.map(async (n) => {
            const file = cluster.layout.logFile(n.name); // refused when a symlink or a FIFO is there
            const text = await cluster.layout.readFile(file).catch((error: unknown) => {
              if ((error as NodeJS.ErrnoException).code === 'ENOENT') return '';
              throw error;
            });
            return { node: n.name, file, lines: text.trimEnd().split('\n').filter(Boolean).slice(-flags.lines) };
          }),
        );
        printResult(flags, { logs }, () => logs.map((l) => [`==> ${l.node} (${l.file}) <==`, ...l.lines].join('\n')).join('\n\n'));
      }),
    );
}
