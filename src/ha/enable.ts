import { basename } from 'node:path';
import type { Cluster } from '../cluster/context.js';
import { applyConfig } from '../cluster/apply-config.js';
import { saveSpec } from '../cluster/create.js';
import type { OnEvent } from '../cluster/events.js';
import type { ClusterSpec, HaSpec } from '../spec/schema.js';
import { primaryOf } from '../spec/topology.js';
import { PreconditionError } from '../cluster/errors.js';
import { findFreePorts } from '../util/ports.js';
import { waitFor } from '../util/wait.js';
import { apiUrl } from './config.js';
import { ensureAgentKey } from './agent-key.js';
import { validateTiming } from './timing.js';
import type { Dcs } from './dcs/dcs.js';
import { openDcs } from './dcs/open.js';
import { publishedMembers } from './look.js';
import { readPause, setPaused } from './pause.js';
import { startAgent, stopAgent } from './supervise.js';

export const FIRST_API_PORT = 8008;

export interface AgentInfo {
  readonly node: string;
  readonly pid: number;
  readonly url: string;
}

export interface HaStartResult {
  readonly dcs: string;
  readonly leader: string;
  readonly agents: readonly AgentInfo[];
}

/** A scope (the cluster's name in a shared DCS) from the cluster directory's name. */
function scopeFor(root: string): string {
  const name = basename(root).toLowerCase().replace(/[^a-z0-9_]/g, '_').replace(/^[^a-z]+/, '');
  return (name || 'pgrepl').slice(0, 63);
}

/** The spec with an `ha` section and an API port for every node (the first free from 8008). */
export interface HaOptions {
  readonly dcs?: string | undefined;
  /** First REST API port to try (default 8008). */
  readonly apiPort?: number | undefined;
}

export async function specWithHa(spec: ClusterSpec, root: string, { dcs, apiPort }: HaOptions): Promise<ClusterSpec> {
  const ha: HaSpec = spec.ha ? { ...spec.ha, ...(dcs ? { dcs } : {}) } : { scope: scopeFor(root), dcs: dcs ?? 'local', ttlMs: 2000, loopWaitMs: 250, retryTimeoutMs: 750 };
  const taken = new Set(spec.nodes.flatMap((n) => [n.port, ...(n.apiPort === undefined ? [] : [n.apiPort])]));
  const missing = spec.nodes.filter((n) => n.apiPort === undefined);
  // Free where each agent will listen: on its node's address.
  const ports = await findFreePorts(missing.length, apiPort ?? FIRST_API_PORT, taken, missing.map((n) => n.host));
  const nodes = spec.nodes.map((n) => (n.apiPort === undefined ? { ...n, apiPort: ports[missing.indexOf(n)]! } : n));
  validateTiming(ha);
  return { ...spec, ha, nodes };
}

export function openClusterDcs(cluster: Cluster, url?: string): Promise<Dcs> {
  const ha = cluster.spec.ha!;
  return openDcs(url ?? ha.dcs, { clusterDir: cluster.layout.root, clusterName: ha.scope, ttlMs: ha.ttlMs });
}

/**
 * Starts an agent per node on this machine: the recorded primary's first, and the others once it
 * holds the lease, so no replica ever finds a leaderless cluster and competes for it. A pause left
 * by `down` is lifted; one a person set stays.
 */
export async function startAgents(cluster: Cluster, onEvent: OnEvent): Promise<HaStartResult> {
  // Made before any agent starts, so they all load the same one.
  if ((await ensureAgentKey(cluster.layout)).created) {
    onEvent({ type: 'step', message: `made the agents' API key ${cluster.layout.agentApiKeyFile} (0600; agents on other machines need a copy)` });
  }
  const dcs = await openClusterDcs(cluster);
  try {
    if ((await readPause(dcs))?.by === 'down') await setPaused(dcs, false, 'down');
    const primary = await leaderOrRecorded(dcs, primaryOf(cluster.spec).name);
    const agents: AgentInfo[] = [];
    const launch = async (node: string): Promise<void> => {
      onEvent({ type: 'step', node, message: 'starting its HA agent' });
      agents.push({ node, pid: await startAgent(cluster, node), url: apiUrl(cluster.spec.nodes.find((n) => n.name === node)!)! });
    };
    await launch(primary);
    await waitFor(async () => ((await dcs.leader().catch(() => null))?.holder === primary ? true : undefined), { what: `${primary}'s agent to take the leader lease`, timeoutMs: 30_000, intervalMs: 20 });
    for (const replica of cluster.spec.nodes.filter((n) => n.name !== primary)) await launch(replica.name);
    const leader = await converged(dcs, cluster.spec.nodes.map((n) => n.name));
    return { dcs: dcs.url, leader, agents };
  } finally {
    await dcs.close();
  }
}

/** The current lease holder, else the primary the spec records: its agent is started first. */
async function leaderOrRecorded(dcs: Dcs, recorded: string): Promise<string> {
  return (await dcs.leader().catch(() => null))?.holder ?? recorded;
}

/**
 * Waits until every node's agent reports: one primary holding the lease, every other node a
 * replica streaming from it (a former primary may first be rewound by its agent). Returns the leader.
 */
export async function converged(dcs: Dcs, names: readonly string[]): Promise<string> {
  let last = 'no agent has reported yet';
  try {
    return await waitFor(async () => {
      const [leader, members] = await Promise.all([dcs.leader().then((l) => l?.holder ?? null), publishedMembers(dcs)]).catch(() => [null, []] as const);
      const lagging = names.filter((n) => {
        const m = members.find((x) => x.name === n);
        return n === leader ? m?.role !== 'primary' : !(m?.streaming && m.upstream === leader);
      });
      if (leader !== null && lagging.length === 0) return leader;
      last = lagging.map((n) => `${n}: ${members.find((m) => m.name === n)?.reason ?? 'no report'}`).join('; ');
      return undefined;
    }, { what: 'the agents to report one primary and every replica streaming from it', timeoutMs: 60_000, intervalMs: 20 });
  } catch (error) {
    throw new PreconditionError(`${(error as Error).message} (${last})`, { hint: 'see `pgrepl status` and the agents\' logs in DIR/agents/' });
  }
}

/**
 * A replica added to a running HA cluster gets an API port and its own agent, which then runs it;
 * returns once the agent reports it streaming.
 */
export async function startAgentFor(cluster: Cluster, node: string, onEvent: OnEvent): Promise<AgentInfo> {
  const saved = await saveSpec(cluster, await specWithHa(cluster.spec, cluster.layout.root, {}));
  const spec = saved.spec.nodes.find((n) => n.name === node)!;
  onEvent({ type: 'step', node, message: 'starting its HA agent' });
  const pid = await startAgent(saved, node);
  const dcs = await openClusterDcs(saved);
  try {
    await converged(dcs, saved.spec.nodes.map((n) => n.name));
  } finally {
    await dcs.close();
  }
  return { node, pid, url: apiUrl(spec)! };
}

/** Saves the HA settings and starts the agents. */
export async function enableHa(cluster: Cluster, options: HaOptions, onEvent: OnEvent): Promise<HaStartResult> {
  const saved = await saveSpec(cluster, await specWithHa(cluster.spec, cluster.layout.root, options));
  // The nodes' files were written before the spec had `ha`: they get its settings now (a standby
  // retries its upstream every 200 ms, not 5 s, so a primary restarted in place gets its
  // synchronous standby back at once).
  await applyConfig(saved);
  return startAgents(saved, onEvent);
}

/**
 * Stops every agent, leaving the servers to the caller (`down` stops them primary first). The
 * cluster is paused first, by `down`, so no agent reacts to another's going away; `up --ha`
 * lifts that pause.
 */
export async function stopAgents(cluster: Cluster, onEvent: OnEvent): Promise<string[]> {
  try {
    const dcs = await openClusterDcs(cluster);
    try {
      if (!(await readPause(dcs))?.paused) await setPaused(dcs, true, 'down');
    } finally {
      await dcs.close();
    }
  } catch (error) {
    // Without the DCS each agent stops its own server as it goes: down still ends with all stopped.
    onEvent({ type: 'warning', message: `could not pause the cluster before stopping its agents (${(error as Error).message})` });
  }
  const stopped: string[] = [];
  await Promise.all(cluster.spec.nodes.map(async (n) => {
    if (await stopAgent(cluster, n.name)) {
      onEvent({ type: 'step', node: n.name, message: 'stopped its HA agent' });
      stopped.push(n.name);
    }
  }));
  return stopped;
}
