import type { Lsn } from '../pg/lsn.js';

/**
 * Everything one agent's `decide()` knows in one cycle: its own node, the lease, what its peers
 * said, and the cluster-wide settings. Built by `look` (I/O) and read by `decide` (pure).
 */
export interface Snapshot {
  readonly me: string;
  readonly pg: LocalPg;
  readonly lease: LeaseView;
  /** Peers as their agents answered this cycle (only gathered when the lease is free). */
  readonly peers: readonly PeerView[];
  readonly settings: HaSettings;
  /** The node the spec names as primary (the last leader pgrepl recorded). */
  readonly specPrimary: string;
  /** How that node answers SQL, looked at only while the lease is free. */
  readonly lastLeader: LastLeader;
  /** A switchover asked for through the DCS (`pgrepl switchover`), if one is fresh. */
  readonly request: SwitchoverRequest | null;
  /** The leader that, unable to reach the DCS, asked this agent within the TTL to let it keep running. */
  readonly failsafeFrom: string | null;
  /** Monotonic ms. */
  readonly now: number;
}

/** The control file's state of a stopped server, as pg_controldata prints it (or unknown). */
export type ControlState = 'shut down' | 'shut down in recovery' | 'in production' | 'in archive recovery' | 'in crash recovery' | 'unknown';

/** The agent's own PostgreSQL, as seen this cycle. */
export type LocalPg =
  | {
      readonly kind: 'stopped';
      readonly control: ControlState;
      /** The control file's timeline, null when unreadable. */
      readonly timeline: number | null;
      /** Ran last cycle and the agent did not stop it: a crash. */
      readonly crashed: boolean;
      /** Fenced or mid-rewind by pgrepl: must be rejoined before it may run. */
      readonly diverged: boolean;
      /** No data directory pgrepl built (never cloned, or cut off mid-clone). */
      readonly noData: boolean;
      /** This agent stopped it cleanly in a switchover to that node, which replayed its shutdown checkpoint. */
      readonly handedOverTo: string | null;
    }
  | { readonly kind: 'unreachable'; readonly since: number }
  | {
      readonly kind: 'running';
      readonly role: 'primary' | 'replica';
      readonly timeline: number;
      /** Primary: current write position; replica: last received or replayed, whichever is further (look.ts, walHeld). */
      readonly lsn: Lsn | null;
      readonly replayLsn: Lsn | null;
      /** Replica: the walreceiver streams. */
      readonly streaming: boolean;
      /** Replica: who its primary_conninfo points at (node name), null when none or unknown. */
      readonly upstream: string | null;
    };

/** The leader lease as this agent sees it. */
export type LeaseView =
  | { readonly dcs: 'unavailable'; readonly myDeadline: number | null }
  | {
      readonly dcs: 'ok';
      readonly holder: string | null;
      /** Monotonic ms until which this agent may act as the holder (last renew's start + TTL); null when not holding. */
      readonly myDeadline: number | null;
      /** Monotonic ms at which the holder's lease runs out unless renewed, as this agent sees it; null when unknown. */
      readonly expiresAt?: number | null;
    };

export type LastLeader = 'writable' | 'in recovery' | 'unreachable' | 'unknown';

/** One peer, as its agent answered (or did not) this cycle. */
export interface PeerView {
  readonly name: string;
  readonly reachable: boolean;
  readonly running: boolean;
  readonly role: 'primary' | 'replica' | null;
  readonly timeline: number | null;
  readonly lsn: Lsn | null;
  /** Not nofailover, not delayed, not diverged. */
  readonly eligible: boolean;
}

export interface HaSettings {
  readonly paused: boolean;
  /** This node never promotes. */
  readonly nofailover: boolean;
  /** This node applies WAL late (recovery_min_apply_delay): never promoted automatically. */
  readonly delayed: boolean;
  /** Synchronous quorum K (0: asynchronous) and the nodes that may acknowledge. */
  readonly syncK: number;
  readonly quorumMembers: readonly string[];
  /** Demote this long before the lease could expire elsewhere (covers a stop and clock steps). */
  readonly fenceMarginMs: number;
  /** Restarts of a crashed primary in place before the lease is handed over. */
  readonly maxRestarts: number;
  readonly restartsSoFar: number;
}

/**
 * A planned change of leader, kept in the DCS key `switchover`. The leader's agent hands over (a
 * clean shutdown the candidate replays) and names the `candidate`; only that node then takes the
 * lease. `refused` says why the leader would not.
 */
export interface SwitchoverRequest {
  readonly from: string;
  /** The node asked for, or null for the most advanced replica. */
  readonly to: string | null;
  readonly candidate: string | null;
  readonly refused: string | null;
  /** Picked by the leader, before its shutdown: it makes its future replicas' slots (`prepare`). */
  readonly chosen: string | null;
  readonly prepared: boolean;
}

/** One step the agent takes on its own node or its own lease. */
export type Action =
  | { readonly kind: 'acquire' }
  | { readonly kind: 'renew' }
  | { readonly kind: 'release' }
  | { readonly kind: 'promote'; readonly from: string | null }
  | { readonly kind: 'start'; readonly as: 'primary' | 'standby'; readonly upstream: string | null }
  | { readonly kind: 'restart' }
  | { readonly kind: 'follow'; readonly leader: string }
  | { readonly kind: 'fence' }
  | { readonly kind: 'rejoin'; readonly leader: string }
  | { readonly kind: 'handover'; readonly to: string | null }
  /** Switchover candidate: make the slots its future replicas will stream from, so they can attach before it is promoted. */
  | { readonly kind: 'prepare' }
  /** Without the DCS: ask every peer's agent to promise it takes no free lease for a TTL. */
  | { readonly kind: 'failsafe' };

export interface Decision {
  /** One human-readable sentence: logged when it changes, shown by `status` and `GET /cluster`. */
  readonly reason: string;
  readonly actions: readonly Action[];
  /** Look again sooner than the loop wait (a leaderless cluster is re-checked quickly). */
  readonly soon?: boolean;
}
