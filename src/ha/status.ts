import type { Cluster } from '../cluster/context.js';
import { apiUrl } from './config.js';
import { openClusterDcs } from './enable.js';
import { publishedMembers } from './look.js';
import { readPause } from './pause.js';
import { runningAgent } from './supervise.js';

export interface AgentStatus {
  /** The agent's REST base URL. */
  readonly url: string | null;
  /** Its process runs (on this machine) or it published its state within its TTL. */
  readonly healthy: boolean;
  readonly pid: number | null;
  /** Its last decision, in words; null when it published nothing. */
  readonly reason: string | null;
}

export interface HaStatus {
  readonly dcs: string;
  /** Null when the DCS could not be read; then `error` says why. */
  readonly leader: string | null;
  readonly paused: boolean | null;
  readonly lease: { readonly holder: string; readonly ttlMs: number; readonly expiresInMs: number | null } | null;
  readonly agents: Readonly<Record<string, AgentStatus>>;
  readonly error: string | null;
}

/** What the DCS and the agents say, for `status`; never throws (an unreachable DCS is reported). */
export async function haStatus(cluster: Cluster): Promise<HaStatus> {
  const ha = cluster.spec.ha!;
  let leader: string | null = null;
  let expiresInMs: number | null = null;
  let paused: boolean | null = null;
  let error: string | null = null;
  let members: Awaited<ReturnType<typeof publishedMembers>> = [];
  try {
    const dcs = await openClusterDcs(cluster);
    try {
      const [record, pause, published] = await Promise.all([dcs.leader(), readPause(dcs), publishedMembers(dcs)]);
      [leader, expiresInMs, paused, members] = [record?.holder ?? null, record?.expiresInMs ?? null, pause?.paused ?? false, published];
    } finally {
      await dcs.close();
    }
  } catch (caught) {
    error = (caught as Error).message;
  }
  const agents: Record<string, AgentStatus> = {};
  for (const node of cluster.spec.nodes) {
    const member = members.find((m) => m.name === node.name);
    const pid = runningAgent(cluster, node.name);
    agents[node.name] = { url: apiUrl(node), healthy: member !== undefined, pid, reason: member?.reason ?? null };
  }
  return { dcs: ha.dcs, leader, paused, lease: leader === null ? null : { holder: leader, ttlMs: ha.ttlMs, expiresInMs }, agents, error };
}
