import { collectDefaultMetrics, Counter, Gauge, Registry } from 'prom-client';
import { parseLsn } from '../pg/lsn.js';
import type { ConsoleNode, StatusDocument } from './types.js';

/** Prometheus' own text format, version 0.0.4. */
export const METRICS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

const lsnBytes = (text: string | null): number | null => (text === null ? null : Number(parseLsn(text)));

/**
 * The cluster as Prometheus gauges, named after postgres_exporter (pg_up, pg_replication_lag_*,
 * pg_replication_slot_*) and Patroni (patroni_primary, patroni_postgres_timeline,
 * patroni_xlog_*_location, patroni_sync_standby, patroni_is_paused, patroni_cluster_unlocked),
 * with a `node` label on every per-node series. Set from each sample; a scrape reads no server.
 */
export class ClusterMetrics {
  readonly registry = new Registry();
  readonly #perSample: Array<Gauge<string>> = [];
  readonly samples: Counter<string>;
  readonly sampleFailures: Counter<string>;
  readonly sampleSeconds: Gauge<string>;

  readonly #g = {
    up: this.#gauge('pgrepl_up', 'Whether the node runs and answers SQL (1) or not (0).', ['node']),
    primary: this.#gauge('pgrepl_primary', 'Whether the node is the primary (1) or not (0).', ['node']),
    replica: this.#gauge('pgrepl_replica', 'Whether the node is a replica (1) or not (0).', ['node']),
    streaming: this.#gauge('pgrepl_postgres_streaming', 'Whether the replica streams from its upstream (1) or not (0).', ['node', 'upstream']),
    timeline: this.#gauge('pgrepl_postgres_timeline', 'The timeline the node is on.', ['node']),
    location: this.#gauge('pgrepl_wal_location_bytes', 'The primary\'s current WAL position, in bytes.', ['node']),
    received: this.#gauge('pgrepl_wal_received_location_bytes', 'The WAL position the replica has received, in bytes.', ['node']),
    replayed: this.#gauge('pgrepl_wal_replayed_location_bytes', 'The WAL position the replica has replayed, in bytes.', ['node']),
    lagBytes: this.#gauge('pgrepl_replication_lag_bytes', 'How far the replica\'s replay is behind the primary\'s current position, in bytes.', ['node', 'upstream']),
    lagSeconds: this.#gauge('pgrepl_replication_lag_seconds', 'The replica\'s replay lag as its upstream measures it, in seconds (0 when caught up).', ['node', 'upstream']),
    syncStandby: this.#gauge('pgrepl_sync_standby', 'Whether the replica is a synchronous standby (sync or quorum) (1) or not (0).', ['node']),
    slotActive: this.#gauge('pgrepl_replication_slot_active', 'Whether a replica streams through the slot (1) or not (0).', ['node', 'slot']),
    slotRetained: this.#gauge('pgrepl_replication_slot_retained_bytes', 'WAL the slot holds back on its node, in bytes.', ['node', 'slot']),
    slotWalStatus: this.#gauge('pgrepl_replication_slot_wal_status', 'The slot\'s wal_status (reserved, extended, unreserved, lost) as a label, value 1.', ['node', 'slot', 'wal_status']),
    leader: this.#gauge('pgrepl_leader', 'HA: whether the node holds the leader lease (1) or not (0).', ['node']),
    agentHealthy: this.#gauge('pgrepl_agent_healthy', 'HA: whether the node\'s agent answers healthy (1) or not (0).', ['node']),
    leaseTtl: this.#gauge('pgrepl_lease_ttl_seconds', 'HA: the TTL the leader lease is renewed with, by its holder.', ['holder']),
    leaseExpires: this.#gauge('pgrepl_lease_expires_in_seconds', 'HA: seconds until the leader lease runs out unless renewed.', ['holder']),
  };

  // Label-less gauges always print a value (0 before any set): these two are made at the first HA
  // sample, so a cluster without HA shows no "unlocked 0" or "paused 0" it never reported.
  #unlocked: Gauge<string> | undefined;
  #paused: Gauge<string> | undefined;

  constructor(readonly slotCapBytes: () => number) {
    // The event-loop delay histogram wakes the process every `eventLoopMonitoringPrecision` ms
    // (a libuv timer): at prom-client's default of 10 ms that alone cost ~10 ms of CPU a second,
    // more than sampling the cluster. Once a second still shows a loop that stalls.
    collectDefaultMetrics({ register: this.registry, prefix: 'pgrepl_console_', eventLoopMonitoringPrecision: 1000 });
    this.samples = new Counter({ name: 'pgrepl_console_samples_total', help: 'Cluster samples the console has taken.', registers: [this.registry] });
    this.sampleFailures = new Counter({ name: 'pgrepl_console_sample_failures_total', help: 'Cluster samples that failed.', registers: [this.registry] });
    this.sampleSeconds = new Gauge({ name: 'pgrepl_console_sample_duration_seconds', help: 'How long the last cluster sample took.', registers: [this.registry] });
    new Gauge({
      name: 'pgrepl_max_slot_wal_keep_size_bytes',
      help: 'The cap on the WAL one slot may hold back (max_slot_wal_keep_size), in bytes.',
      registers: [this.registry],
      collect() {
        this.set(slotCapBytes());
      },
    });
  }

  #gauge(name: string, help: string, labelNames: string[]): Gauge<string> {
    const gauge = new Gauge({ name, help, labelNames, registers: [this.registry] });
    this.#perSample.push(gauge);
    return gauge;
  }

  /** Replaces every per-node series with the ones of `status` (a removed node's series go away). */
  update(status: StatusDocument): void {
    for (const gauge of this.#perSample) gauge.reset();
    for (const node of status.nodes) this.#node(node);
    if (status.leader !== undefined) {
      this.#unlocked ??= new Gauge({ name: 'pgrepl_cluster_unlocked', help: 'HA: whether no node holds the leader lease (1) or one does (0).', registers: [this.registry] });
      this.#unlocked.set(status.leader === null ? 1 : 0);
      for (const node of status.nodes) this.#g.leader.set({ node: node.name }, node.name === status.leader ? 1 : 0);
    }
    if (status.paused !== undefined && status.paused !== null) {
      this.#paused ??= new Gauge({ name: 'pgrepl_is_paused', help: 'HA: whether automatic failover is paused (1) or not (0).', registers: [this.registry] });
      this.#paused.set(status.paused ? 1 : 0);
    }
    if (status.lease) {
      this.#g.leaseTtl.set({ holder: status.lease.holder }, status.lease.ttlMs / 1000);
      if (typeof status.lease.expiresInMs === 'number') this.#g.leaseExpires.set({ holder: status.lease.holder }, status.lease.expiresInMs / 1000);
    }
  }

  #node(n: ConsoleNode): void {
    const node = { node: n.name };
    const g = this.#g;
    g.up.set(node, n.running && n.inRecovery !== null ? 1 : 0);
    g.primary.set(node, n.role === 'primary' ? 1 : 0);
    g.replica.set(node, n.role === 'replica' ? 1 : 0);
    if (n.timeline !== null) g.timeline.set(node, n.timeline);
    const lsn = lsnBytes(n.lsn);
    if (n.role === 'primary') {
      if (lsn !== null) g.location.set(node, lsn);
    } else {
      const link = { ...node, upstream: n.upstream ?? '' };
      g.streaming.set(link, n.state === 'streaming' ? 1 : 0);
      g.syncStandby.set(node, n.syncState === 'sync' || n.syncState === 'quorum' ? 1 : 0);
      if (lsn !== null) g.received.set(node, lsn);
      const replayed = lsnBytes(n.replayLsn);
      if (replayed !== null) g.replayed.set(node, replayed);
      if (n.lagBytes !== null) g.lagBytes.set(link, n.lagBytes);
      if (n.replayLagMs !== null) g.lagSeconds.set(link, n.replayLagMs / 1000);
    }
    for (const slot of n.slots) {
      const labels = { ...node, slot: slot.name };
      g.slotActive.set(labels, slot.active ? 1 : 0);
      if (slot.retainedBytes !== null) g.slotRetained.set(labels, slot.retainedBytes);
      if (slot.walStatus !== null) g.slotWalStatus.set({ ...labels, wal_status: slot.walStatus }, 1);
    }
    if (n.agent) g.agentHealthy.set(node, n.agent.healthy ? 1 : 0);
  }

  text(): Promise<string> {
    return this.registry.metrics();
  }
}
