import type { Command } from 'commander';
import { hostPort, nodeNames } from '../compose/layout.js';
import { composeFailover } from '../compose/ops/failover.js';
import { lookAll } from '../compose/ops/look.js';
import { statusRows, type StatusRow } from '../compose/ops/plan.js';
import { loadProject, readPrimary, type ComposeProject } from '../compose/ops/project.js';
import { composeRejoin } from '../compose/ops/rejoin.js';
import { writeComposeProject, type ComposeResult } from '../compose/project.js';
import { primaryUrl } from '../compose/readme.js';
import { validateComposeOptions, type ComposeOptions, type RawComposeOptions } from '../compose/options.js';
import { UsageError } from '../errors.js';
import { action, printResult, type CommonOptions } from './output.js';
import { withCommonOptions } from './options.js';

type ComposeFlags = CommonOptions & RawComposeOptions;
type ProjectFlags = CommonOptions & { project?: string };

function describe(result: ComposeResult, options: ComposeOptions): string {
  const nodes = nodeNames(options);
  return [
    `wrote a Docker Compose project to ${result.dir}: postgres:${options.pgVersion}, ${nodes.join(', ')} (pg1 starts as the primary), ` +
      (options.sync > 0 ? `commits wait for ANY ${options.sync}` : 'asynchronous'),
    `files:    ${result.files.join(', ')} (secrets/ holds the passwords, mode 0600)`,
    '',
    `start:    cd ${result.dir} && docker compose up -d`,
    `check:    pgrepl compose status       (in ${result.dir})`,
    `connect:  psql '${primaryUrl(options)}'`,
    `more:     ${result.dir}/README.md (failover, rejoin, tear down)`,
  ].join('\n');
}

function statusText(primary: string, rows: readonly StatusRow[], project: ComposeProject): string {
  const lines = [`primary: ${primary} (published on ${project.published[primary] || 'no host port'})`, ''];
  lines.push(['node', 'role', 'upstream', 'lag', 'published'].map((h, i) => h.padEnd([6, 30, 10, 12, 0][i]!)).join(''));
  for (const r of rows) {
    const lag = r.lagBytes === null ? '-' : `${r.lagBytes} B`;
    lines.push([r.node.padEnd(6), r.role.padEnd(30), (r.upstream ?? '-').padEnd(10), lag.padEnd(12), project.published[r.node] ?? ''].join(''));
  }
  return lines.join('\n');
}

function projectCommand(parent: Command, name: string): Command {
  return withCommonOptions(parent.command(name)).option('-C, --project <DIR>', 'the project directory (default: the current directory)').exitOverride();
}

/** The subcommand's flags with the parent's: `compose` defines --json too, and takes it wherever it is written. */
function globals<T>(command: Command): T {
  return command.optsWithGlobals() as T;
}

function progressFor(flags: CommonOptions): (line: string) => void {
  return (line) => { if (!flags.json) process.stderr.write(`${line}\n`); };
}

function registerOperations(compose: Command): void {
  projectCommand(compose, 'status')
    .description('which node is the primary now, and whether every standby streams')
    .action(action(async (_flags: ProjectFlags, command: Command) => {
      const flags = globals<ProjectFlags>(command);
      const project = await loadProject(flags.project ?? '.');
      const primary = await readPrimary(project);
      const rows = statusRows(primary, await lookAll(project));
      printResult(flags, { primary, nodes: rows.map((r) => ({ ...r, published: project.published[r.node] ?? null })) }, () => statusText(primary, rows, project));
    }));
  projectCommand(compose, 'failover')
    .description('fence the primary, promote the most advanced standby, repoint the others (state/primary names it)')
    .action(action(async (_flags: ProjectFlags, command: Command) => {
      const flags = globals<ProjectFlags>(command);
      const project = await loadProject(flags.project ?? '.');
      const result = await composeFailover(project, progressFor(flags));
      printResult(flags, result, () => [
        `${result.to} is the primary now (${result.reason}); published on ${project.published[result.to]}`,
        result.fenced.length ? `fenced: ${result.fenced.join(', ')} (stopped; any later start is read-only): bring back with pgrepl compose rejoin NODE` : '',
        result.notRepointed.length ? `not answering, will follow ${result.to} when started again: ${result.notRepointed.join(', ')} (docker compose restart NODE)` : '',
      ].filter(Boolean).join('\n'));
    }));
  projectCommand(compose, 'rejoin')
    .argument('<NODE>', 'the node to bring back as a standby, e.g. pg1')
    .option('--reclone', 'copy the primary afresh instead of trying pg_rewind first')
    .description('bring a node (an old primary) back as a streaming standby: pg_rewind, or a fresh clone when that fails')
    .action(action(async (node: string, _flags: ProjectFlags, command: Command) => {
      const flags = globals<ProjectFlags & { reclone?: boolean }>(command);
      const project = await loadProject(flags.project ?? '.');
      const result = await composeRejoin(project, node, { reclone: Boolean(flags.reclone), timeoutMs: 30 * 60_000 }, progressFor(flags));
      printResult(flags, result, () => `${result.node} streams from ${result.primary} (${result.method === 'rewind' ? 'pg_rewind' : 'cloned afresh'})`);
    }));
}

export function registerCompose(program: Command): void {
  const compose = withCommonOptions(program.command('compose'))
    .description('write a Docker Compose project (`docker compose up -d` gives a primary and streaming standbys); status, failover, rejoin it')
    .option('--replicas <N>', 'number of standbys, 1-32 (default 1): nodes pg1..pgN+1')
    .option('--sync <K>', 'commits wait for ANY K standbys; 0 is asynchronous (default 0)')
    .option('--pgadmin', 'add pgAdmin with every node registered')
    .option('--pg-version <V>', 'major version of the official postgres image, 13-18 (default 17)')
    .option('-o, --output <DIR>', 'new or empty directory to write the project to (default ./pgrepl-compose)')
    .option('--port <P>', 'host port pg1 is published on; pgK gets P+K-1 (default 5432)')
    .option('--bind <ADDR>', 'host address published ports bind to (default 127.0.0.1: this machine only)')
    .option('--pgadmin-port <P>', "host port of pgAdmin's web UI (default 5050)")
    .option('--subnet <CIDR>', 'fix the Compose network to this IPv4 subnet (default: Docker picks a free one)')
    .action(
      action(async (flags: ComposeFlags) => {
        if (flags.dir !== undefined) {
          throw new UsageError('--dir names a local cluster; compose writes a project directory', { hint: 'use -o DIR' });
        }
        const options = validateComposeOptions(flags);
        const result = await writeComposeProject(options);
        const ports = Object.fromEntries(nodeNames(options).map((n) => [n, hostPort(options, n)]));
        printResult(flags, { ...result, pgVersion: options.pgVersion, ports }, () => describe(result, options));
      }),
    );
  registerOperations(compose);
}
