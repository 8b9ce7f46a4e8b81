import type { Command } from 'commander';
import { writeComposeProject, type ComposeResult } from '../compose/project.js';
import { validateComposeOptions, type RawComposeOptions } from '../compose/options.js';
import { UsageError } from '../errors.js';
import { action, printResult, type CommonOptions } from './output.js';
import { withCommonOptions } from './options.js';

type ComposeFlags = CommonOptions & RawComposeOptions;

function describe(result: ComposeResult, pgVersion: number, sync: number): string {
  const replicas = result.services.filter((s) => s.startsWith('replica'));
  return [
    `wrote a Docker Compose project to ${result.dir}: postgres:${pgVersion}, primary + ${replicas.length} replica(s), ` +
      (sync > 0 ? `commits wait for ANY ${sync}` : 'asynchronous'),
    `files:    ${result.files.join(', ')} (.env holds the passwords, mode 0600)`,
    '',
    `start:    cd ${result.dir} && docker compose up -d`,
    `check:    docker compose exec -u postgres primary psql -c "SELECT application_name, state, sync_state FROM pg_stat_replication"`,
    `more:     ${result.dir}/README.md (promote, tear down)`,
  ].join('\n');
}

export function registerCompose(program: Command): void {
  withCommonOptions(program.command('compose'))
    .description('write a Docker Compose project: `docker compose up -d` alone gives a primary and streaming replicas')
    .option('--replicas <N>', 'number of replicas, 1-32 (default 1)')
    .option('--sync <K>', 'commits wait for ANY K replicas; 0 is asynchronous (default 0)')
    .option('--pgadmin', 'add pgAdmin with every node registered')
    .option('--pg-version <V>', 'major version of the official postgres image, 13-18 (default 17)')
    .option('-o, --output <DIR>', 'new or empty directory to write the project to (default ./pgrepl-compose)')
    .option('--port <P>', "host port the primary is published on (default 5432)")
    .option('--bind <ADDR>', 'host address published ports bind to (default 127.0.0.1: this machine only)')
    .option('--pgadmin-port <P>', "host port of pgAdmin's web UI (default 5050)")
    .option('--subnet <CIDR>', 'IPv4 subnet of the Compose network; pg_hba.conf admits only it (default 10.213.47.0/24)')
    .action(
      action(async (flags: ComposeFlags) => {
        if (flags.dir !== undefined) {
          throw new UsageError('--dir names a local cluster; compose writes a project directory', { hint: 'use -o DIR' });
        }
        const options = validateComposeOptions(flags);
        const result = await writeComposeProject(options);
        printResult(flags, { ...result, pgVersion: options.pgVersion }, () => describe(result, options.pgVersion, options.sync));
      }),
    );
}
