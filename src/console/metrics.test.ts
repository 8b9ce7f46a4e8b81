import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import parsePrometheus from 'parse-prometheus-text-format';
import { ClusterMetrics } from './metrics.js';
import type { ConsoleNode, StatusDocument } from './types.js';

const node = (name: string, over: Partial<ConsoleNode>): ConsoleNode => ({
  name, role: 'replica', host: 'h', port: 1, running: true, upstream: 'pg1', state: 'streaming', inRecovery: true, timeline: 3,
  lsn: '1/0', replayLsn: '0/FFFF0000', lagBytes: 65536, replayLagMs: 1500, syncState: 'quorum', slots: [], ...over,
});
const primary = node('pg1', {
  role: 'primary', upstream: null, state: 'primary', inRecovery: false, lsn: '1/0', replayLsn: null, lagBytes: null, replayLagMs: null, syncState: null,
  slots: [{ name: 'pg2', active: true, walStatus: 'reserved', retainedBytes: 4096 }, { name: 'old', active: false, walStatus: 'lost', retainedBytes: null }],
});

async function samples(metrics: ClusterMetrics): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for (const family of parsePrometheus(await metrics.text())) {
    for (const m of family.metrics) {
      const labels = Object.entries(m.labels ?? {}).map(([k, v]) => `${k}=${v}`).join(',');
      out.set(`${family.name}{${labels}}`, m.value);
    }
  }
  return out;
}

test('metrics: a sample becomes per-node gauges named after postgres_exporter and Patroni', async () => {
  const metrics = new ClusterMetrics(() => 1024 ** 3);
  metrics.update({ dir: '/c', nodes: [primary, node('pg2', {}), node('pg3', { running: false, state: 'stopped', inRecovery: null, timeline: null, lsn: null, replayLsn: null, lagBytes: null, replayLagMs: null, syncState: null })], warnings: [] });
  const s = await samples(metrics);
  const expected: Record<string, string> = {
    'pgrepl_up{node=pg1}': '1', 'pgrepl_up{node=pg3}': '0',
    'pgrepl_primary{node=pg1}': '1', 'pgrepl_replica{node=pg2}': '1',
    'pgrepl_postgres_timeline{node=pg2}': '3',
    'pgrepl_wal_location_bytes{node=pg1}': String(2 ** 32),
    'pgrepl_wal_received_location_bytes{node=pg2}': String(2 ** 32),
    'pgrepl_wal_replayed_location_bytes{node=pg2}': String(2 ** 32 - 65536),
    'pgrepl_replication_lag_bytes{node=pg2,upstream=pg1}': '65536',
    'pgrepl_replication_lag_seconds{node=pg2,upstream=pg1}': '1.5',
    'pgrepl_postgres_streaming{node=pg2,upstream=pg1}': '1', 'pgrepl_postgres_streaming{node=pg3,upstream=pg1}': '0',
    'pgrepl_sync_standby{node=pg2}': '1',
    'pgrepl_replication_slot_active{node=pg1,slot=pg2}': '1', 'pgrepl_replication_slot_active{node=pg1,slot=old}': '0',
    'pgrepl_replication_slot_retained_bytes{node=pg1,slot=pg2}': '4096',
    'pgrepl_replication_slot_wal_status{node=pg1,slot=old,wal_status=lost}': '1',
    'pgrepl_max_slot_wal_keep_size_bytes{}': String(1024 ** 3),
  };
  for (const [key, value] of Object.entries(expected)) assert.equal(s.get(key), value, key);
  assert.equal(s.get('pgrepl_postgres_timeline{node=pg3}'), undefined, 'no timeline for a stopped node');
  assert.equal(s.get('pgrepl_cluster_unlocked{}'), undefined, 'no HA series without HA');
});

test('metrics: HA fields become lease, pause and agent series; a removed node\'s series go away', async () => {
  const metrics = new ClusterMetrics(() => 0);
  const ha: Partial<StatusDocument> = { leader: 'pg1', paused: true, lease: { holder: 'pg1', ttlMs: 25_000, expiresInMs: 12_500 } };
  metrics.update({ dir: '/c', nodes: [{ ...primary, agent: { url: 'http://x', healthy: true, reason: 'leader' } }, node('pg2', { agent: null })], warnings: [], ...ha });
  let s = await samples(metrics);
  assert.equal(s.get('pgrepl_leader{node=pg1}'), '1');
  assert.equal(s.get('pgrepl_leader{node=pg2}'), '0');
  assert.equal(s.get('pgrepl_cluster_unlocked{}'), '0');
  assert.equal(s.get('pgrepl_is_paused{}'), '1');
  assert.equal(s.get('pgrepl_lease_ttl_seconds{holder=pg1}'), '25');
  assert.equal(s.get('pgrepl_lease_expires_in_seconds{holder=pg1}'), '12.5');
  assert.equal(s.get('pgrepl_agent_healthy{node=pg1}'), '1');
  metrics.update({ dir: '/c', nodes: [primary], warnings: [], leader: null, paused: false, lease: null });
  s = await samples(metrics);
  assert.equal(s.get('pgrepl_up{node=pg2}'), undefined);
  assert.equal(s.get('pgrepl_cluster_unlocked{}'), '1');
});

test('the Grafana dashboard in docs/ queries only metrics the console exports', async () => {
  const file = new URL('../../../docs/grafana-dashboard.json', import.meta.url);
  const dashboard = JSON.parse(await readFile(file, 'utf8')) as { panels: Array<{ title: string; targets: Array<{ expr: string }> }> };
  const metrics = new ClusterMetrics(() => 0);
  metrics.update({ dir: '/c', nodes: [primary], warnings: [], leader: 'pg1', paused: false, lease: null });
  const exported = new Set(parsePrometheus(await metrics.text()).map((f) => f.name));
  for (const panel of dashboard.panels) {
    for (const target of panel.targets) {
      for (const name of target.expr.match(/\bpgrepl_[a-z_]+/g) ?? []) assert.ok(exported.has(name), `${panel.title}: ${name} is not exported`);
    }
  }
});
