import { controlData } from '../pg/controldata.js';
import { formatLsn, parseLsnOrNull, type Lsn } from '../pg/lsn.js';
import type { ClusterSpec, NodeSpec } from '../spec/schema.js';
import { readNodeState } from '../cluster/node-state.js';
import type { Cluster } from '../cluster/context.js';
import type { Dcs } from './dcs/dcs.js';
import { DcsUnavailableError } from './dcs/dcs.js';
import { apiUrl } from './config.js';
import { parseMemberState, type MemberState } from './member.js';
import type { OwnServer } from './own-server.js';
import type { ControlState, LastLeader, LeaseView, LocalPg, PeerView } from './snapshot.js';
import { isInRecovery, type ServerPosition } from '../pg/queries.js';
import { withConnection } from '../pg/sql.js';
import { adminTarget } from '../cluster/context.js';

const CONTROL_STATES: readonly ControlState[] = ['shut down', 'shut down in recovery', 'in production', 'in archive recovery', 'in crash recovery'];

/** What the agent remembers between cycles to interpret what it sees. */
export interface Memory {
  /** The server ran at the last look and the agent has not stopped it since. */
  expectRunning: boolean;
  /** When the server first failed to answer while running (monotonic ms), or null. */
  unreachableSince: number | null;
  /** The node this agent's primary was cleanly handed over to in a switchover, until it runs again. */
  handedOverTo: string | null;
}

/** The name of the node a standby's primary_conninfo points at, by host and port. */
function nodeAt(spec: ClusterSpec, host: string | null, port: number | null): string | null {
  return spec.nodes.find((n) => n.host === host && n.port === port)?.name ?? null;
}

/**
 * How far a server's WAL goes, the position takeovers are decided on. A primary: its write
 * position. A standby: what it received or replayed, whichever is further. The receive position
 * alone understates a standby restarted while its upstream is gone: PostgreSQL then reports the
 * start of the WAL segment it asks for (up to 16 MB behind what it has replayed from its own
 * pg_wal) until streaming resumes, and a quorum member holding acknowledged commits would look
 * behind a replica that lacks them.
 */
export function walHeld(p: Pick<ServerPosition, 'inRecovery' | 'lsn' | 'replayLsn'>): Lsn | null {
  if (!p.inRecovery || p.replayLsn === null) return p.lsn;
  return p.lsn === null || p.replayLsn > p.lsn ? p.replayLsn : p.lsn;
}

/** The agent's own PostgreSQL: running (and what it says), not answering, or stopped (and why). */
export async function lookAtSelf(cluster: Cluster, node: NodeSpec, own: OwnServer, memory: Memory, now: number): Promise<LocalPg> {
  if (await own.running()) {
    try {
      const p = await own.position();
      memory.expectRunning = true;
      memory.unreachableSince = null;
      memory.handedOverTo = null;
      return {
        kind: 'running',
        role: p.inRecovery ? 'replica' : 'primary',
        timeline: p.timeline,
        lsn: walHeld(p),
        replayLsn: p.replayLsn,
        streaming: p.receiverStatus === 'streaming',
        upstream: p.inRecovery ? nodeAt(cluster.spec, p.configuredHost, p.configuredPort) : null,
      };
    } catch {
      memory.unreachableSince ??= now;
      return { kind: 'unreachable', since: memory.unreachableSince };
    }
  }
  memory.unreachableSince = null;
  const crashed = memory.expectRunning;
  const state = await readNodeState(cluster.layout, node.name);
  const noData = state === null || state.phase === 'initializing' || state.phase === 'cloning';
  const diverged = state?.phase === 'diverged' || state?.phase === 'rewinding';
  const control = noData ? null : await controlData(cluster.bin, cluster.user, cluster.layout.dataDir(node.name)).catch(() => null);
  const known = CONTROL_STATES.find((c) => c === control?.state);
  return { kind: 'stopped', control: known ?? 'unknown', timeline: control?.timeline ?? null, crashed, diverged, noData, handedOverTo: memory.handedOverTo };
}

/** The lease: who holds it, and until when this agent may act as the holder. */
export async function lookAtLease(dcs: Dcs, myDeadline: number | null, now: number): Promise<LeaseView> {
  try {
    const record = await dcs.leader();
    const expiresAt = record?.expiresInMs === undefined ? null : now + record.expiresInMs;
    return { dcs: 'ok', holder: record?.holder ?? null, myDeadline, expiresAt };
  } catch (error) {
    if (error instanceof DcsUnavailableError) return { dcs: 'unavailable', myDeadline };
    throw error;
  }
}

/**
 * Whether the last recorded primary still answers SQL as a writable primary, looked at only while
 * the lease is free: a primary whose agent died keeps running, and no replica may be promoted
 * beside it. A refused connection is `unreachable` at once; a timeout (a loaded machine, or a
 * frozen server) only when the one before timed out too, so one slow handshake does not count a
 * working primary as gone. `previous` is this function's last answer and timeout count.
 */
export async function lookAtLastLeader(cluster: Cluster, name: string, me: string, timeoutMs: number, previous: LastLeaderMemory): Promise<LastLeader> {
  const node = cluster.spec.nodes.find((n) => n.name === name);
  if (!node || name === me) return 'unknown';
  try {
    const inRecovery = await withConnection(adminTarget(cluster, node), isInRecovery, timeoutMs);
    previous.timeouts = 0;
    return (previous.verdict = inRecovery ? 'in recovery' : 'writable');
  } catch (error) {
    const refused = /ECONNREFUSED|EHOSTUNREACH|ENETUNREACH/.test(String((error as Error).message));
    previous.timeouts = refused ? 0 : previous.timeouts + 1;
    if (!refused && previous.timeouts < 2 && previous.verdict === 'writable') return 'writable';
    return (previous.verdict = 'unreachable');
  }
}

export interface LastLeaderMemory {
  verdict: LastLeader;
  timeouts: number;
}

/** Asks each peer's agent for its fresh state (`GET /status`), in parallel, each within `timeoutMs`. */
export async function lookAtPeers(spec: ClusterSpec, me: string, timeoutMs: number): Promise<PeerView[]> {
  const peers = spec.nodes.filter((n) => n.name !== me);
  return Promise.all(peers.map((n) => askPeer(n, timeoutMs)));
}

async function askPeer(node: NodeSpec, timeoutMs: number): Promise<PeerView> {
  const state = await peerStatus(node, timeoutMs);
  return state ? peerView(state) : { name: node.name, reachable: false, running: false, role: null, timeline: null, lsn: null, eligible: false };
}

/** A peer agent's fresh state (`GET /status`) within `timeoutMs`; null if it has no API, does not answer, or answers for another node. */
export async function peerStatus(node: NodeSpec, timeoutMs: number): Promise<MemberState | null> {
  const url = apiUrl(node);
  if (url === null) return null;
  try {
    const state = parseMemberState(await (await fetch(`${url}/status`, { signal: AbortSignal.timeout(timeoutMs) })).json());
    return state?.name === node.name ? state : null;
  } catch {
    return null;
  }
}

export function peerView(state: MemberState): PeerView {
  return { name: state.name, reachable: true, running: state.running, role: state.role, timeline: state.timeline, lsn: parseLsnOrNull(state.lsn), eligible: state.eligible };
}

/** This node's state for the DCS and `GET /status`. */
export function memberState(node: NodeSpec, pg: LocalPg, eligible: boolean, reason: string): MemberState {
  const running = pg.kind === 'running';
  return {
    name: node.name,
    apiUrl: apiUrl(node) ?? '',
    running: pg.kind !== 'stopped',
    role: running ? pg.role : null,
    timeline: running ? pg.timeline : pg.kind === 'stopped' ? pg.timeline : null,
    lsn: running && pg.lsn !== null ? formatLsn(pg.lsn) : null,
    streaming: running && pg.role === 'replica' && pg.streaming,
    upstream: running && pg.role === 'replica' ? pg.upstream : null,
    eligible: eligible && running && pg.role === 'replica',
    reason,
    at: Date.now(),
  };
}

export async function publishedMembers(dcs: Dcs): Promise<MemberState[]> {
  return (await dcs.members()).flatMap((m) => {
    const state = parseMemberState(m.state);
    return state ? [state] : [];
  });
}
