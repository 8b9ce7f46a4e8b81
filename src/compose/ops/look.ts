import { withConnection } from '../../pg/sql.js';
import { nodeTarget, type ComposeProject } from './project.js';

/** What one node reports, or that it does not answer (container stopped, server not up). */
export type NodeLook =
  | { readonly name: string; readonly running: false; readonly error: string }
  | {
      readonly name: string;
      readonly running: true;
      readonly inRecovery: boolean;
      /** Last WAL position received (standby) or written (primary), as a number. */
      readonly lsn: bigint;
      readonly replayLsn: bigint | null;
      /** pg_stat_wal_receiver.status (`streaming`), or null when no walreceiver runs. */
      readonly walReceiver: string | null;
      readonly upstream: string | null;
      readonly timeline: number;
    };

/** `X/Y` as a number; '' (NULL) as 0. */
export function parseLsn(text: string): bigint {
  const match = /^([0-9A-F]+)\/([0-9A-F]+)$/i.exec(text.trim());
  return match ? (BigInt(`0x${match[1]}`) << 32n) + BigInt(`0x${match[2]}`) : 0n;
}

const LOOK_SQL = `SELECT pg_is_in_recovery(),
  CASE WHEN pg_is_in_recovery() THEN greatest(pg_last_wal_receive_lsn(), pg_last_wal_replay_lsn()) ELSE pg_current_wal_lsn() END,
  pg_last_wal_replay_lsn(), (SELECT status FROM pg_stat_wal_receiver), (SELECT sender_host FROM pg_stat_wal_receiver),
  (SELECT timeline_id FROM pg_control_checkpoint())`;

/** Runs one statement on a node over its published port; the rows as `|`-joined text lines. */
export async function nodeQuery(project: ComposeProject, node: string, sql: string, timeoutMs = 3000): Promise<string> {
  return withConnection(nodeTarget(project, node), async (db) => {
    const { rows } = await db.query(sql);
    return rows.map((row) => Object.values(row).map((v) => (v === null ? '' : v === true ? 't' : v === false ? 'f' : String(v))).join('|')).join('\n');
  }, timeoutMs);
}

/** Parses LOOK_SQL's one row (pure, for tests). */
export function parseLook(name: string, row: string): NodeLook {
  const [recovery, lsn, replay, receiver, upstream, timeline] = row.split('|');
  return {
    name, running: true, inRecovery: recovery === 't', lsn: parseLsn(lsn ?? ''), replayLsn: replay ? parseLsn(replay) : null,
    walReceiver: receiver || null, upstream: upstream || null, timeline: Number(timeline),
  };
}

export async function lookNode(project: ComposeProject, name: string, timeoutMs?: number): Promise<NodeLook> {
  try {
    return parseLook(name, await nodeQuery(project, name, LOOK_SQL, timeoutMs));
  } catch (error) {
    return { name, running: false, error: (error as Error).message };
  }
}

/** Every node at once. */
export function lookAll(project: ComposeProject, names: readonly string[] = project.nodes, timeoutMs?: number): Promise<NodeLook[]> {
  return Promise.all(names.map((name) => lookNode(project, name, timeoutMs)));
}
