import { createAdaptorServer } from '@hono/node-server';
import type { Hono } from 'hono';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ActionRunner } from './actions.js';
import { Assets } from './assets.js';
import { ClusterMetrics } from './metrics.js';
import { startSampler } from './sampler.js';
import { consoleApp } from './server.js';
import { ConsoleState } from './state.js';
import { newToken } from './token.js';
import type { ClusterOps } from './types.js';

export type { ClusterOps, StatusDocument } from './types.js';

export interface ConsoleOptions {
  readonly ops: ClusterOps;
  /** The cap one slot may hold back (max_slot_wal_keep_size), in bytes; read at each sample. */
  readonly slotCapBytes: () => number;
  readonly host: string;
  readonly port: number;
  /** Where index.html, app.js and uPlot's files are. */
  readonly assetsDir: string;
  readonly intervalMs?: number;
  /** Samples of lag kept for the chart; the default is 30 minutes at one a second. */
  readonly historySamples?: number;
}

export interface RunningConsole {
  readonly url: string;
  readonly token: string;
  readonly state: ConsoleState;
  /** The action running now, if any: stopping the console then would cut it short. */
  busy(): string | null;
  close(): Promise<void>;
}

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '::1']);

/** Host headers a loopback console answers to; any for a console bound elsewhere on purpose. */
function allowedHosts(host: string, port: number): ReadonlySet<string> | null {
  if (!LOOPBACK.has(host) && !host.startsWith('127.')) return null;
  return new Set([`127.0.0.1:${port}`, `localhost:${port}`, `[::1]:${port}`, `${host}:${port}`]);
}

function listen(server: Server, host: string, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve((server.address() as AddressInfo).port);
    });
  });
}

/**
 * Starts the console: samples the cluster every second, serves the page, the live stream, the
 * API and /metrics on host:port. Rejects with the listen error (EADDRINUSE, EACCES) unchanged.
 */
export async function startConsole(options: ConsoleOptions): Promise<RunningConsole> {
  const { ops, host } = options;
  const assets = await Assets.load(options.assetsDir);
  const state = new ConsoleState(options.historySamples ?? 1800, Boolean(ops.pause && ops.resume));
  const metrics = new ClusterMetrics(options.slotCapBytes);
  const token = newToken();
  const actions = new ActionRunner(ops, state);
  let app: Hono | undefined; // made once the port is known (--port 0 picks one): the Host check needs it
  const server = createAdaptorServer({ fetch: (request, env) => (app ? app.fetch(request, env) : new Response('starting', { status: 503 })) }) as Server;
  const port = await listen(server, host, options.port);
  app = consoleApp({ state, metrics, actions, token, assets, status: () => ops.status(), allowedHosts: allowedHosts(host, port) });
  const sampler = startSampler({ ops, state, metrics, intervalMs: options.intervalMs ?? 1000, slotCapBytes: options.slotCapBytes });
  await sampler.first;
  const shown = host.includes(':') ? `[${host}]` : host;
  return {
    url: `http://${shown}:${port}/`,
    token,
    state,
    busy: () => actions.running,
    async close() {
      await sampler.stop();
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
      await ops.close();
    },
  };
}
