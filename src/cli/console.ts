import type { Command } from 'commander';
import { realpathSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { resolveClusterDir } from '../cluster/location.js';
import type { RunningConsole } from '../console/index.js';
import { PgreplError } from '../errors.js';
import { withDeadline } from '../util/wait.js';
import { LocalClusterOps } from './console-ops.js';
import { action, printResult, type CommonOptions } from './output.js';
import { intOption, withCommonOptions } from './options.js';

export const DEFAULT_PORT = 8070;

interface ConsoleFlags extends CommonOptions {
  readonly host: string;
  readonly port: number;
  readonly intervalMs: number;
}

/** The console's cannot listen where it was told to. */
class ConsoleListenError extends PgreplError {}

/** Where the bundles are: dist/, beside the bin (`__dirname` inside the bundle). */
function distDir(): string {
  return typeof __dirname === 'string' ? __dirname : dirname(realpathSync(process.argv[1]!));
}

/**
 * The console's server, metrics and page live in their own bundle (dist/pgrepl-console.cjs, with
 * the page's files in dist/console/), loaded only here: every other command starts without them.
 */
function loadConsole(): typeof import('../console/index.js') {
  return createRequire(join(distDir(), 'pgrepl.cjs'))('./pgrepl-console.cjs') as typeof import('../console/index.js');
}

function listenError(error: unknown, flags: ConsoleFlags): unknown {
  const code = (error as NodeJS.ErrnoException).code;
  const where = `${flags.host}:${flags.port}`;
  if (code === 'EADDRINUSE') return new ConsoleListenError(`${where} is in use`, { hint: 'choose another port with --port', cause: error });
  if (code === 'EADDRNOTAVAIL') return new ConsoleListenError(`${flags.host} is not an address of this machine`, { hint: 'give --host one of its addresses, e.g. 127.0.0.1', cause: error });
  if (code === 'EACCES') return new ConsoleListenError(`not allowed to listen on ${where}`, { hint: 'choose a port above 1023 with --port', cause: error });
  return error;
}

/**
 * Ctrl-C (or SIGTERM) stops an idle console at once, exit 0. During an action the handlers that
 * were there (pgrepl's own interrupt handling: stop a clone, say what is left) run instead.
 */
function stopOnSignal(running: RunningConsole): void {
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    const previous = process.listeners(signal);
    process.removeAllListeners(signal);
    process.once(signal, () => {
      if (running.busy() !== null) {
        for (const listener of previous) listener(signal);
        return;
      }
      void withDeadline(running.close(), 3000, undefined).finally(() => process.exit(0));
    });
  }
}

export function registerConsole(program: Command): void {
  withCommonOptions(program.command('console'))
    .description('a web page of the topology, lag, slots and events, with actions and Prometheus /metrics')
    .option('--host <HOST>', 'address to listen on; anything but loopback shows the cluster to the network', '127.0.0.1')
    // Not 8008: that is where the HA agents' REST APIs start (Patroni's port).
    .option('--port <P>', 'port to listen on (0: any free one)', intOption(0, 65535), DEFAULT_PORT)
    .option('--interval-ms <N>', 'how often to sample the cluster', intOption(100, 60_000), 1000)
    .action(
      action(async (flags: ConsoleFlags) => {
        const ops = new LocalClusterOps(resolveClusterDir(flags.dir));
        await ops.current(); // no cluster, no console: the usual one-line error
        const { startConsole } = loadConsole();
        const running = await startConsole({
          ops, host: flags.host, port: flags.port, intervalMs: flags.intervalMs,
          slotCapBytes: () => ops.slotCapBytes(), assetsDir: join(distDir(), 'console'),
        }).catch((error: unknown) => {
          void ops.close();
          throw listenError(error, flags);
        });
        stopOnSignal(running);
        printResult(flags, { dir: ops.root, url: running.url, metrics: `${running.url}metrics`, token: running.token }, () => [
          `pgrepl console for ${ops.root}`,
          `  page:     ${running.url}`,
          `  metrics:  ${running.url}metrics`,
          `  token:    ${running.token}   (actions ask for it; it is not stored anywhere)`,
          'Ctrl-C stops it.',
        ].join('\n'));
      }),
    );
}
