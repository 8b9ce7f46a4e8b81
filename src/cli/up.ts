import type { Command } from 'commander';
import { resolveClusterDir } from '../cluster/location.js';
import { up, type UpResult } from '../cluster/up.js';
import { action, printResult, type CommonOptions } from './output.js';
import { intOption, withCommonOptions } from './options.js';
import { progressPrinter } from './progress.js';
import { changeCluster, classifyDir, openCluster } from '../cluster/open.js';
import { UsageError } from '../errors.js';
import { enableHa, type HaStartResult } from '../ha/enable.js';

interface UpFlags extends CommonOptions {
  readonly replicas?: number;
  readonly port?: number;
  readonly bindir?: string;
  readonly osUser?: string;
  readonly sync?: number;
  readonly ha?: boolean;
  readonly dcs?: string;
  readonly apiPort?: number;
  readonly host?: string[];
}

function describeHa(ha: HaStartResult): string {
  return [`HA agents running (DCS ${ha.dcs}); ${ha.leader} holds the leader lease, every replica streams from it`, ...ha.agents.map((a) => `  ${a.node}: agent pid ${a.pid}, health checks at ${a.url}/primary and ${a.url}/replica`)].join('\n');
}

/** A cluster whose spec has HA gets its agents back from a plain `up`, as `down` stopped them. */
async function haConfigured(root: string): Promise<boolean> {
  return (await classifyDir(root)) === 'cluster' && (await openCluster(root)).spec.ha !== undefined;
}

function describe(result: UpResult): string {
  const dirFlag = ` --dir ${result.dir}`;
  return [
    `${result.created ? 'created' : 'converged'} cluster in ${result.dir}`,
    `primary ${result.primary} is up`,
    ...result.proofs.map((p) => `replica ${p.node} is streaming and replayed a probe written at ${p.probeLsn}`),
    '',
    `connect:  pgrepl psql${dirFlag}`,
    `status:   pgrepl status${dirFlag}`,
    `stop:     pgrepl down${dirFlag}`,
  ].join('\n');
}

export function registerUp(program: Command): void {
  withCommonOptions(program.command('up'))
    .description('create or start the cluster and prove every replica streams')
    .option('--replicas <N>', 'number of replicas (default 1 for a new cluster)', intOption(0, 50))
    .option('--port <P>', 'port of the first node; the others get P+1, P+2, ...', intOption(1024, 65535))
    .option('--sync <K>', 'synchronous quorum: each commit waits for K replicas (0 = asynchronous)', intOption(0, 50))
    .option('--bindir <DIR>', 'directory of the PostgreSQL server programs')
    .option('--host <ADDR,...>', 'address the new nodes listen on: one for all, or one per node in order (default 127.0.0.1)', (v: string) => v.split(','))
    .option('--os-user <USER>', 'OS user that runs PostgreSQL when pgrepl runs as root (default postgres)')
    .option('--ha', 'automatic failover: start an HA agent per node (leader lease, health checks on port 8008+)')
    .option('--dcs <URL>', 'with --ha: local (default, one machine) or etcd://host:port[,host:port...]')
    .option('--api-port <P>', 'with --ha: the first agent REST API port (default: the first free from 8008)', intOption(1024, 65535))
    .action(
      action(async (flags: UpFlags) => {
        const root = resolveClusterDir(flags.dir);
        const onEvent = progressPrinter(Boolean(flags.json));
        if ((flags.dcs || flags.apiPort) && !flags.ha) throw new UsageError('--dcs and --api-port go with --ha', { hint: 'add --ha to start the HA agents' });
        if (await haConfigured(root)) {
          if (flags.replicas !== undefined || flags.sync !== undefined || flags.port !== undefined || flags.host !== undefined) {
            throw new UsageError('with HA on, `up` starts the agents and they run the nodes; it changes no topology', { hint: 'use `pgrepl add-replica`, `remove-replica` or `set sync`' });
          }
          const ha = await changeCluster(root, 'up', (cluster) => enableHa(cluster, { dcs: flags.dcs, apiPort: flags.apiPort }, onEvent));
          printResult(flags, { dir: root, created: false, primary: ha.leader, cloned: [], proofs: [], ha }, () => describeHa(ha));
          return;
        }
        const result = await up({ ...flags, hosts: flags.host, root, onEvent });
        const ha = flags.ha ? await changeCluster(root, 'up --ha', (cluster) => enableHa(cluster, { dcs: flags.dcs, apiPort: flags.apiPort }, onEvent)) : null;
        printResult(flags, { ...result, ha }, () => describe(result) + (ha ? `\n${describeHa(ha)}` : ''));
      }),
    );
}
