import type { ProgressEvent } from '../cluster/events.js';
import type { NodeStatus } from '../cluster/assess.js';

/** A node's HA agent as `status --json` reports it when HA is on. */
export interface AgentHealth {
  readonly url: string | null;
  readonly healthy: boolean;
  readonly pid?: number | null;
  /** The agent's last decision in words; null when it published nothing. */
  readonly reason: string | null;
}

/** One node of `pgrepl status --json`; `agent` is present (possibly null) only when HA is on. */
export interface ConsoleNode extends NodeStatus {
  readonly agent?: AgentHealth | null;
}

/** The leader lease when HA is on: its holder, the TTL its agent renews it with, and when it runs out. */
export interface Lease {
  readonly holder: string;
  readonly ttlMs: number;
  readonly expiresInMs?: number | null;
}

/**
 * The very document `pgrepl status --json` prints. The console never builds its own: it samples
 * through the same function. The HA fields are absent when HA is off.
 */
export interface StatusDocument {
  readonly dir: string;
  readonly nodes: readonly ConsoleNode[];
  readonly warnings: readonly string[];
  readonly leader?: string | null;
  /** Null when the DCS could not be read. */
  readonly paused?: boolean | null;
  readonly lease?: Lease | null;
  /** HA's own view (DCS, agents, an error reading the DCS). */
  readonly ha?: { readonly dcs: string; readonly error: string | null };
}

export type OnProgress = (event: ProgressEvent) => void;

export interface SwitchoverRequest {
  readonly to?: string;
}

export interface AddReplicaRequest {
  readonly name?: string;
  readonly from?: string;
  readonly sync?: boolean;
}

export interface RemoveReplicaRequest {
  readonly name: string;
}

/**
 * What the console may do to the cluster: the CLI's own operations, each run under the cluster
 * lock as the CLI runs it. Pause and resume exist only when HA is on.
 */
export interface ClusterOps {
  /** The document `pgrepl status --json` prints, read now. */
  status(): Promise<StatusDocument>;
  switchover(request: SwitchoverRequest, onProgress: OnProgress): Promise<unknown>;
  addReplica(request: AddReplicaRequest, onProgress: OnProgress): Promise<unknown>;
  removeReplica(request: RemoveReplicaRequest, onProgress: OnProgress): Promise<unknown>;
  pause?(onProgress: OnProgress): Promise<unknown>;
  resume?(onProgress: OnProgress): Promise<unknown>;
  /** Releases what `status` holds (connections). */
  close(): Promise<void>;
}

/** A line of the console's event log. */
export interface ConsoleEvent {
  readonly at: number;
  readonly kind: 'node-up' | 'node-down' | 'node-added' | 'node-removed' | 'state' | 'primary' | 'switchover' | 'failover' | 'timeline' | 'slot-invalidated' | 'leader' | 'paused' | 'agent' | 'action' | 'sample-failed';
  readonly node?: string;
  readonly message: string;
}
