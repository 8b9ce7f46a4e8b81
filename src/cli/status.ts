import type { Command } from 'commander';
import { assess, type ClusterStatus, type NodeStatus } from '../cluster/assess.js';
import { resolveClusterDir } from '../cluster/location.js';
import type { Cluster } from '../cluster/context.js';
import { observeCluster, type ObserveOptions } from '../cluster/observe.js';
import { openCluster } from '../cluster/open.js';
import { describeIntent, interrupted, readIntent, resumeCommand, type Intent } from '../cluster/intent.js';
import { action, printResult, type CommonOptions } from './output.js';
import { withCommonOptions } from './options.js';
import { haStatus, type HaStatus } from '../ha/status.js';

const dash = (v: unknown): string => (v === null || v === undefined ? '-' : String(v));

function lag(node: NodeStatus): string {
  if (node.role === 'primary') return '';
  const bytes = node.lagBytes === null ? '-' : `${node.lagBytes} B`;
  const time = node.replayLagMs === null ? '-' : `${node.replayLagMs} ms`;
  return `${bytes} / ${time}`;
}

function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, col) => Math.max(...rows.map((r) => r[col]!.length)));
  return rows.map((r) => r.map((cell, col) => cell.padEnd(widths[col]!)).join('  ').trimEnd()).join('\n');
}

export function renderStatus(status: ClusterStatus): string {
  const rows = [['NAME', 'ROLE', 'STATE', 'ADDRESS', 'UPSTREAM', 'TL', 'LSN', 'REPLAY LSN', 'LAG (bytes / time)', 'SYNC']];
  for (const n of status.nodes) {
    rows.push([n.name, n.role, n.state, `${n.host}:${n.port}`, dash(n.upstream), dash(n.timeline), dash(n.lsn), dash(n.replayLsn), lag(n) || '-', dash(n.syncState)]);
  }
  const slots = status.nodes.flatMap((n) =>
    n.slots.map((s) => `  ${n.name}/${s.name}: ${s.active ? 'active' : 'inactive'}, wal ${dash(s.walStatus)}, retains ${s.retainedBytes === null ? '-' : `${(s.retainedBytes / 2 ** 20).toFixed(1)} MB`}`),
  );
  const parts = [table(rows)];
  if (slots.length > 0) parts.push('', 'slots:', ...slots);
  if (status.warnings.length > 0) parts.push('', ...status.warnings.map((w) => `warning: ${w}`));
  return parts.join('\n');
}

function renderHa(ha: HaStatus): string {
  const head = ha.error
    ? `HA: DCS ${ha.dcs} unreachable: ${ha.error}`
    : `HA: DCS ${ha.dcs}; leader lease: ${ha.leader ?? 'free'}${ha.lease ? ` (expires in ${ha.lease.expiresInMs ?? '?'} ms unless its agent renews it; TTL ${ha.lease.ttlMs} ms)` : ''}${ha.paused ? '; PAUSED: no automatic failover' : ''}`;
  const rows = Object.entries(ha.agents).map(([name, a]) => `  ${name}: agent ${a.healthy ? 'healthy' : a.pid ? 'running, not publishing' : 'not running'}${a.url ? ` at ${a.url}` : ''}${a.reason ? ` — ${a.reason}` : ''}`);
  return [head, ...rows].join('\n');
}

/**
 * What `status` shows: the assessed nodes, HA's view when HA is on, and the document `--json`
 * prints. The console samples through this very function (with held connections via `observe`).
 */
export async function readStatus(cluster: Cluster, observe: ObserveOptions = {}): Promise<{ status: ClusterStatus; ha: HaStatus | null; intent: IntentStatus | null; document: Record<string, unknown> }> {
  const [observed, ha, intent] = await Promise.all([observeCluster(cluster, cluster.spec.nodes, observe), cluster.spec.ha ? haStatus(cluster) : null, intentStatus(cluster)]);
  const status = assess(observed, cluster.spec.replication);
  const document = ha
    ? { dir: cluster.layout.root, ...status, nodes: status.nodes.map((n) => ({ ...n, agent: ha.agents[n.name] ?? null })), leader: ha.leader, paused: ha.paused, lease: ha.lease, ha, intent }
    : { dir: cluster.layout.root, ...status, intent };
  return { status, ha, intent, document };
}

/**
 * A failover or switchover recorded in the cluster directory: running (its pid is alive) or
 * interrupted, with the command that finishes it; or the file is there and unreadable.
 */
export type IntentStatus =
  | (Intent & { readonly interrupted: boolean; readonly resume: string })
  | { readonly unreadable: string };

async function intentStatus(cluster: Cluster): Promise<IntentStatus | null> {
  try {
    const intent = await readIntent(cluster.layout);
    return intent && { ...intent, interrupted: interrupted(intent), resume: resumeCommand(intent) };
  } catch (error) {
    return { unreadable: (error as Error).message };
  }
}

function renderIntent(intent: IntentStatus): string {
  if ('unreadable' in intent) return `warning: ${intent.unreadable}`;
  if (!intent.interrupted) return `in progress: ${describeIntent(intent)}`;
  return `INTERRUPTED: ${describeIntent(intent)}; finish it with \`${intent.resume}\``;
}

export function registerStatus(program: Command): void {
  withCommonOptions(program.command('status'))
    .description('role, state, lag and slots of every node, with warnings')
    .action(
      action(async (flags: CommonOptions) => {
        const { status, ha, intent, document } = await readStatus(await openCluster(resolveClusterDir(flags.dir)));
        printResult(flags, document, () => renderStatus(status) + (ha ? `\n\n${renderHa(ha)}` : '') + (intent ? `\n\n${renderIntent(intent)}` : ''));
      }),
    );
}
