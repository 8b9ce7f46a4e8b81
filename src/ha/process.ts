import type { Server } from 'node:http';
import type { Cluster } from '../cluster/context.js';
import { nodeNamed } from '../spec/topology.js';
import { UnknownNodeError } from '../cluster/errors.js';
import { Agent } from './agent.js';
import { agentKeyOf, type AgentKey } from './agent-key.js';
import { serveApi } from './api.js';
import { requireHa } from './config.js';
import { openDcs } from './dcs/open.js';
import { UsageError } from '../errors.js';

function log(node: string): (line: string) => void {
  return (line) => process.stdout.write(`${new Date().toISOString()} ${node}: ${line}\n`);
}

/**
 * The `pgrepl agent` process: opens the DCS, serves the REST API, runs the loop until SIGTERM or
 * SIGINT, then stops (see Agent.stop) and exits.
 */
export async function runAgentProcess(cluster: Cluster, name: string, dcsUrl: string | undefined): Promise<void> {
  const ha = requireHa(cluster.spec);
  const node = nodeNamed(cluster.spec, name);
  if (!node) throw new UnknownNodeError(`no node named '${name}'`, { hint: `nodes are: ${cluster.spec.nodes.map((n) => n.name).join(', ')}` });
  if (node.apiPort === undefined) throw new UsageError(`${name} has no apiPort in the spec`, { hint: 'run `pgrepl up --ha`, which assigns one' });
  // A DCS call must fail within the retry timeout: the timing rule (loop wait + 2 x retry timeout <= TTL) counts on it.
  const dcs = await openDcs(dcsUrl ?? ha.dcs, { clusterDir: cluster.layout.root, clusterName: ha.scope, ttlMs: ha.ttlMs, timeoutMs: ha.retryTimeoutMs });
  const say = log(name);
  let key: AgentKey;
  try {
    key = await agentKeyOf(cluster.layout);
  } catch (error) {
    await dcs.close();
    throw error;
  }
  if (key.created) say(`made the agents' API key ${cluster.layout.agentApiKeyFile}: agents on other machines need a copy of it`);
  const agent = new Agent({ cluster, node: name, dcs, log: say });
  let server: Server;
  try {
    server = await serveApi(agent, node, dcs, () => cluster, { key: key.key, windowMs: ha.ttlMs, log: say });
  } catch (error) {
    await dcs.close();
    throw new UsageError(`cannot serve ${name}'s API on ${node.host}:${node.apiPort}: ${(error as Error).message}`, { hint: 'another process holds the port; change apiPort in pgrepl.yaml' });
  }
  say(`agent started (pid ${process.pid}), API on ${node.host}:${node.apiPort}, DCS ${dcs.url}, lease TTL ${dcs.ttlMs} ms`);
  const stopped = new Promise<void>((resolve) => {
    const onSignal = (signal: NodeJS.Signals): void => {
      say(`${signal}: stopping`);
      resolve();
    };
    process.removeAllListeners('SIGINT').removeAllListeners('SIGTERM');
    process.once('SIGINT', onSignal).once('SIGTERM', onSignal);
  });
  const running = agent.run();
  await stopped;
  await agent.stop();
  await running;
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
  await dcs.close();
  say('agent stopped');
}
