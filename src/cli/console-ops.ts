import { statSync } from 'node:fs';
import { join } from 'node:path';
import type { Cluster } from '../cluster/context.js';
import { openCluster } from '../cluster/open.js';
import { DEFAULT_MAX_LAG_BYTES } from '../cluster/switchover.js';
import type { AddReplicaRequest, ClusterOps, OnProgress, RemoveReplicaRequest, StatusDocument, SwitchoverRequest } from '../console/types.js';
import { Sessions, type Connector, type Queryable } from '../pg/sql.js';
import { SPEC_FILE } from '../spec/file.js';
import { runAddReplica } from './add-replica.js';
import { runSetPaused } from './pause.js';
import { runRemoveReplica } from './remove-replica.js';
import { readStatus } from './status.js';
import { runSwitchover } from './switchover.js';

/** What a held pg client also takes: a query named, so its server plans it once per connection. */
interface NamedQueries {
  query(config: { name: string; text: string; values?: unknown[] }): Promise<{ rows: Array<Record<string, unknown>> }>;
}

/**
 * A Connector over held sessions on which every query runs as a named prepared statement: the
 * server parses and plans it on the first sample and only executes it after. The status queries
 * read views (pg_stat_replication is a join of three) whose planning cost each server ~1.5 ms of
 * CPU a sample against ~0.1 ms to run them; a console samples every second for hours.
 */
export function preparedVia(sessions: Sessions): Connector {
  const names = new Map<string, string>();
  const nameOf = (text: string): string => {
    let name = names.get(text);
    if (name === undefined) names.set(text, (name = `pgrepl_console_${names.size + 1}`));
    return name;
  };
  return (target, work, timeoutMs) =>
    sessions.with(target, (db) => {
      const client = db as unknown as NamedQueries;
      const prepared: Queryable = {
        query: <R extends Record<string, unknown>>(text: string, values?: unknown[]) =>
          client.query({ name: nameOf(text), text, ...(values ? { values } : {}) }) as Promise<{ rows: R[] }>,
      };
      return work(prepared);
    }, timeoutMs);
}

/**
 * The console's view of a cluster on this machine: `status` is `pgrepl status --json`'s own
 * function over connections held between samples (a SCRAM handshake a second per node would cost
 * more than the queries) with its queries prepared once per connection, and the actions are the CLI commands' own functions with their defaults
 * (each under the cluster lock, or through the agents under HA, as the CLI runs them).
 */
export class LocalClusterOps implements ClusterOps {
  readonly #sessions = new Sessions();
  readonly #via = preparedVia(this.#sessions);
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
    return (await readStatus(await this.current(), { via: this.#via })).document as unknown as StatusDocument;
  }

  /** `pgrepl switchover`'s own function: under HA the agents change the cluster, asked through the DCS. */
  switchover(request: SwitchoverRequest, onEvent: OnProgress): Promise<unknown> {
    return runSwitchover(this.root, { maxLagBytes: DEFAULT_MAX_LAG_BYTES, onEvent, ...(request.to ? { to: request.to } : {}) });
  }

  /** `pgrepl pause`'s own function: refused (requireHa's error) when HA is off. */
  async pause(): Promise<unknown> {
    await runSetPaused(this.root, true);
    return { paused: true };
  }

  async resume(): Promise<unknown> {
    await runSetPaused(this.root, false);
    return { paused: false };
  }

  /** `pgrepl add-replica`'s own function (under HA it starts the new node's agent). */
  addReplica(request: AddReplicaRequest, onEvent: OnProgress): Promise<unknown> {
    return runAddReplica(this.root, { sync: Boolean(request.sync), onEvent, ...(request.name ? { name: request.name } : {}), ...(request.from ? { from: request.from } : {}) });
  }

  /** `pgrepl remove-replica`'s own function, with its default: the data directory goes too. */
  removeReplica(request: RemoveReplicaRequest, onEvent: OnProgress): Promise<unknown> {
    return runRemoveReplica(this.root, request.name, { keepData: false, onEvent });
  }

  close(): Promise<void> {
    return this.#sessions.close();
  }
}
