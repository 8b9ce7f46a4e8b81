import type { Cluster } from '../cluster/context.js';
import type { NodeSpec } from '../spec/schema.js';
import type { Dcs } from './dcs/dcs.js';
import type { LeaseKeeper } from './lease.js';
import type { OwnServer } from './own-server.js';

/** Keeps a failsafe primary's lease without the DCS between cycles (failsafe.ts). */
export interface FailsafeKeeper {
  keep(ctx: ActContext): Promise<void>;
  stop(): void;
}

/** What acting needs: the cluster as last read, this node, its lease and server, the DCS. */
export interface ActContext {
  readonly cluster: Cluster;
  readonly node: NodeSpec;
  readonly dcs: Dcs;
  readonly lease: LeaseKeeper;
  readonly own: OwnServer;
  /** Marks a stop as the agent's own, so the next look does not take it for a crash. */
  readonly stopping: () => void;
  /** Keeps a failsafe primary's lease without the DCS between cycles. */
  readonly failsafe: FailsafeKeeper;
  /** Records a clean handover to `to`: the stopped old primary may follow it without a rewind. */
  readonly handedOver: (to: string) => void;
  readonly loopWaitMs: number;
  /** Logs a step's timing when PGREPL_HA_TRACE=1 (a no-op otherwise). */
  readonly trace: (line: string) => void;
}
