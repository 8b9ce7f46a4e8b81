import { statSync } from 'node:fs';
import { join } from 'node:path';
import { addReplica } from '../cluster/add-replica.js';
import type { Cluster } from '../cluster/context.js';
import { changeCluster, openCluster } from '../cluster/open.js';
import { removeReplica } from '../cluster/remove-replica.js';
import { DEFAULT_MAX_LAG_BYTES, switchover } from '../cluster/switchover.js';
import type { AddReplicaRequest, ClusterOps, OnProgress, RemoveReplicaRequest, StatusDocument, SwitchoverRequest } from '../console/types.js';
import { Sessions } from '../pg/sql.js';
import { SPEC_FILE } from '../spec/file.js';
import { requireHa } from '../ha/config.js';
import { openClusterDcs } from '../ha/enable.js';
import { setPaused } from '../ha/pause.js';
import { haSwitchover } from '../ha/switchover.js';
import { readStatus } from './status.js';

/**
 * The console's view of a cluster on this machine: `status` is `pgrepl status --json`'s own
 * function over connections held between samples (a SCRAM handshake a second per node would cost
 * more than the queries), and the actions are the CLI's operations with their defaults, each run
 * under the cluster lock through `changeCluster` as the CLI runs them.
 */
export class LocalClusterOps implements ClusterOps {
  readonly #sessions = new Sessions();
  #cluster: Cluster | undefined;
  #specStamp = '';

  constructor(readonly root: string) {}

  /** The cluster, opened again only when its spec file changed (a switchover, a new replica). */
  async current(): Promise<Cluster> {
    const stat = statSync(join(this.root, SPEC_FILE));
    const stamp = `${stat.ino}:${stat.size}:${stat.mtimeMs}`;
    if (!this.#cluster || stamp !== this.#specStamp) {
      this.#cluster = await openCluster(this.root);
      this.#specStamp = stamp;
    }
    return this.#cluster;
  }

  slotCapBytes(): number {
    return (this.#cluster?.spec.replication.maxSlotWalKeepSizeMb ?? 0) * 2 ** 20;
  }

  async status(): Promise<StatusDocument> {
    return (await readStatus(await this.current(), { via: this.#sessions.with })).document as unknown as StatusDocument;
  }

  /** As `pgrepl switchover`: under HA the agents change the cluster, asked through the DCS. */
  async switchover(request: SwitchoverRequest, onEvent: OnProgress): Promise<unknown> {
    const opened = await openCluster(this.root);
    if (opened.spec.ha) return haSwitchover(opened, request.to, onEvent);
    return changeCluster(this.root, 'switchover', (cluster) => switchover(cluster, {
      maxLagBytes: DEFAULT_MAX_LAG_BYTES, onEvent, ...(request.to ? { to: request.to } : {}),
    }));
  }

  /** As `pgrepl pause` / `pgrepl resume`: refused (requireHa's error) when HA is off. */
  async #setPaused(paused: boolean): Promise<unknown> {
    const cluster = await openCluster(this.root);
    requireHa(cluster.spec);
    const dcs = await openClusterDcs(cluster);
    try {
      await setPaused(dcs, paused, 'user');
    } finally {
      await dcs.close();
    }
    return { paused };
  }

  pause(): Promise<unknown> {
    return this.#setPaused(true);
  }

  resume(): Promise<unknown> {
    return this.#setPaused(false);
  }

  addReplica(request: AddReplicaRequest, onEvent: OnProgress): Promise<unknown> {
    return changeCluster(this.root, 'add-replica', (cluster) => addReplica(cluster, {
      sync: Boolean(request.sync), onEvent, ...(request.name ? { name: request.name } : {}), ...(request.from ? { from: request.from } : {}),
    }));
  }

  removeReplica(request: RemoveReplicaRequest, onEvent: OnProgress): Promise<unknown> {
    return changeCluster(this.root, 'remove-replica', (cluster) => removeReplica(cluster, request.name, { keepData: false, onEvent }));
  }

  close(): Promise<void> {
    return this.#sessions.close();
  }
}
