import { parseLsn, parseLsnOrNull, type Lsn } from './lsn.js';
import { quoteIdent, quoteLiteral, type Queryable } from './sql.js';

/** One row of pg_stat_replication: a walsender serving a standby. */
export interface WalSender {
  readonly applicationName: string;
  readonly clientAddr: string | null;
  readonly state: string;
  readonly sentLsn: Lsn | null;
  readonly flushLsn: Lsn | null;
  readonly replayLsn: Lsn | null;
  readonly replayLagMs: number | null;
  readonly syncState: string;
}

/** One row of pg_replication_slots (physical slots only). */
export interface Slot {
  readonly name: string;
  readonly active: boolean;
  readonly restartLsn: Lsn | null;
  /** `reserved`, `extended`, `unreserved` or `lost` (PostgreSQL 13+), null when never reserved. */
  readonly walStatus: string | null;
}

export interface ServerPosition {
  readonly inRecovery: boolean;
  readonly timeline: number;
  /** Primary: current write position. Replica: last received position. */
  readonly lsn: Lsn | null;
  /** Replica only: last replayed position. */
  readonly replayLsn: Lsn | null;
  /** Replica only: pg_stat_wal_receiver.status, or null when no walreceiver runs. */
  readonly receiverStatus: string | null;
  readonly upstreamHost: string | null;
  readonly upstreamPort: number | null;
}

type Row = Record<string, unknown>;
const str = (v: unknown): string | null => (v === null || v === undefined ? null : String(v));

const POSITION_SQL = `
    SELECT pg_is_in_recovery() AS in_recovery,
           CASE WHEN pg_is_in_recovery() THEN pg_last_wal_receive_lsn() ELSE pg_current_wal_lsn() END::text AS lsn,
           pg_last_wal_replay_lsn()::text AS replay_lsn,
           CASE WHEN pg_is_in_recovery()
                THEN COALESCE((SELECT received_tli FROM pg_stat_wal_receiver), (SELECT timeline_id FROM pg_control_checkpoint()))
                -- the checkpoint's timeline lags a promotion until the next checkpoint; the WAL file name does not
                ELSE ('x' || substr(pg_walfile_name(pg_current_wal_lsn()), 1, 8))::bit(32)::int END AS timeline,
           (SELECT status FROM pg_stat_wal_receiver) AS receiver_status,
           (SELECT sender_host FROM pg_stat_wal_receiver) AS sender_host,
           (SELECT sender_port FROM pg_stat_wal_receiver) AS sender_port`;

function toPosition(row: Row): ServerPosition {
  return {
    inRecovery: row.in_recovery === true,
    timeline: Number(row.timeline),
    lsn: parseLsnOrNull(str(row.lsn)),
    replayLsn: parseLsnOrNull(str(row.replay_lsn)),
    receiverStatus: str(row.receiver_status),
    upstreamHost: str(row.sender_host),
    upstreamPort: row.sender_port === null ? null : Number(row.sender_port),
  };
}

export async function serverPosition(db: Queryable): Promise<ServerPosition> {
  const { rows } = await db.query<Row>(POSITION_SQL);
  return toPosition(rows[0]!);
}

const SENDERS_SQL = `
    SELECT application_name, client_addr::text, state, sent_lsn::text, flush_lsn::text, replay_lsn::text,
           (EXTRACT(epoch FROM replay_lag) * 1000)::bigint AS replay_lag_ms, sync_state
      FROM pg_stat_replication`;

function toSender(r: Row): WalSender {
  return {
    applicationName: String(r.application_name),
    clientAddr: str(r.client_addr),
    state: String(r.state),
    sentLsn: parseLsnOrNull(str(r.sent_lsn)),
    flushLsn: parseLsnOrNull(str(r.flush_lsn)),
    replayLsn: parseLsnOrNull(str(r.replay_lsn)),
    replayLagMs: r.replay_lag_ms === null ? null : Number(r.replay_lag_ms),
    syncState: String(r.sync_state),
  };
}

export async function walSenders(db: Queryable): Promise<WalSender[]> {
  const { rows } = await db.query<Row>(SENDERS_SQL);
  return rows.map(toSender);
}

const SLOTS_SQL = `
    SELECT slot_name, active, restart_lsn::text, wal_status
      FROM pg_replication_slots WHERE slot_type = 'physical' ORDER BY slot_name`;

function toSlot(r: Row): Slot {
  return {
    name: String(r.slot_name),
    active: r.active === true,
    restartLsn: parseLsnOrNull(str(r.restart_lsn)),
    walStatus: str(r.wal_status),
  };
}

export async function physicalSlots(db: Queryable): Promise<Slot[]> {
  const { rows } = await db.query<Row>(SLOTS_SQL);
  return rows.map(toSlot);
}

/**
 * serverPosition, walSenders and physicalSlots in one statement (the lists as JSON): one round
 * trip instead of three, for `status` and the console, which asks every node every second.
 */
export async function serverLook(db: Queryable): Promise<{ position: ServerPosition; senders: WalSender[]; slots: Slot[] }> {
  const { rows } = await db.query<Row>(`
    SELECT p.*, (SELECT json_agg(w) FROM (${SENDERS_SQL}) w) AS senders, (SELECT json_agg(s ORDER BY s.slot_name) FROM (${SLOTS_SQL}) s) AS slots
      FROM (${POSITION_SQL}) p`);
  const row = rows[0]!;
  const list = (value: unknown): Row[] => (Array.isArray(value) ? (value as Row[]) : []); // json_agg of no rows is NULL
  return { position: toPosition(row), senders: list(row.senders).map(toSender), slots: list(row.slots).map(toSlot) };
}

/**
 * Creates a physical slot, unless one of that name exists. It reserves WAL at once unless told
 * not to, in which case it does from its replica's first report (half the fsyncs to create it).
 */
export async function ensurePhysicalSlot(db: Queryable, name: string, reserve = true): Promise<void> {
  await db.query(
    `SELECT pg_create_physical_replication_slot($1, $2)
      WHERE NOT EXISTS (SELECT 1 FROM pg_replication_slots WHERE slot_name = $1)`,
    [name, reserve],
  );
}

/**
 * Creates or updates the replication role: LOGIN REPLICATION and nothing more (never SUPERUSER).
 * `verifier` is a SCRAM verifier, so the plaintext password never reaches the server.
 */
export async function ensureReplicationRole(db: Queryable, role: string, verifier: string): Promise<void> {
  const { rows } = await db.query<Row>('SELECT 1 FROM pg_roles WHERE rolname = $1', [role]);
  const verb = rows.length > 0 ? 'ALTER' : 'CREATE';
  await db.query(
    `${verb} ROLE ${quoteIdent(role)} WITH LOGIN REPLICATION NOSUPERUSER NOCREATEDB NOCREATEROLE NOBYPASSRLS PASSWORD ${quoteLiteral(verifier)}`,
  );
}

/**
 * Writes a tiny transactional WAL record on the primary and returns its position: once a replica's
 * replay position passes it, that replica has provably replayed something written after it attached.
 */
export async function writeProbe(db: Queryable): Promise<Lsn> {
  const { rows } = await db.query<Row>(`SELECT pg_logical_emit_message(true, 'pgrepl', 'probe')::text AS lsn`);
  return parseLsn(String(rows[0]!.lsn));
}

export async function replayLsn(db: Queryable): Promise<Lsn | null> {
  const { rows } = await db.query<Row>('SELECT pg_last_wal_replay_lsn()::text AS lsn');
  return parseLsnOrNull(str(rows[0]!.lsn));
}

export async function currentSetting(db: Queryable, name: string): Promise<string> {
  const { rows } = await db.query<Row>('SELECT current_setting($1) AS value', [name]);
  return String(rows[0]!.value);
}

/** When this session last read the configuration files (it re-reads them on the reload signal). */
export async function confLoadTime(db: Queryable): Promise<string> {
  const { rows } = await db.query<Row>('SELECT pg_conf_load_time()::text AS t');
  return String(rows[0]!.t);
}

/**
 * Signals the server to reload its configuration. Returns when this session had last read it: the
 * session reads the files again before its next command once the signal has reached it, so a
 * changed confLoadTime() proves the reload landed.
 */
export async function reloadConf(db: Queryable): Promise<string> {
  const { rows } = await db.query<Row>('SELECT pg_conf_load_time()::text AS t, pg_reload_conf()');
  return String(rows[0]!.t);
}

/**
 * Asks a standby to promote and returns without waiting: pg_promote(wait => true) checks only every
 * 100 ms, so the caller polls pg_is_in_recovery() on a finer grain instead.
 */
export async function requestPromotion(db: Queryable): Promise<void> {
  await db.query('SELECT pg_promote(false)');
}

export async function isInRecovery(db: Queryable): Promise<boolean> {
  const { rows } = await db.query<Row>('SELECT pg_is_in_recovery() AS r');
  return rows[0]!.r === true;
}

export async function checkpoint(db: Queryable): Promise<void> {
  await db.query('CHECKPOINT');
}

/** Points a running standby at a new upstream; PostgreSQL 13+ restarts its walreceiver on reload. */
export async function setUpstream(db: Queryable, conninfo: string | null, slot: string | null): Promise<void> {
  await writeUpstream(db, conninfo, slot);
  await reloadConf(db);
}

/**
 * Writes a standby's upstream into postgresql.auto.conf; the server acts on it at its next reload.
 * `slot` undefined leaves the slot line as the file has it: each ALTER SYSTEM rewrites and fsyncs
 * the file, and a repoint usually keeps the slot's name.
 */
export async function writeUpstream(db: Queryable, conninfo: string | null, slot: string | null | undefined): Promise<void> {
  await db.query(conninfo === null ? 'ALTER SYSTEM RESET primary_conninfo' : `ALTER SYSTEM SET primary_conninfo = ${quoteLiteral(conninfo)}`);
  if (slot === undefined) return;
  await db.query(slot === null ? 'ALTER SYSTEM RESET primary_slot_name' : `ALTER SYSTEM SET primary_slot_name = ${quoteLiteral(slot)}`);
}

export async function dropSlot(db: Queryable, name: string): Promise<boolean> {
  const { rows } = await db.query<Row>(
    'SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name = $1 AND NOT active',
    [name],
  );
  return rows.length > 0;
}

/** Where a standby is told to stream from: host and port in primary_conninfo, and its slot. */
export async function configuredUpstream(db: Queryable): Promise<{ host: string | null; port: number | null; slot: string }> {
  const conninfo = await currentSetting(db, 'primary_conninfo');
  const host = /(?:^|\s)host='?([^\s']+)/.exec(conninfo)?.[1] ?? null;
  const port = /(?:^|\s)port='?(\d+)/.exec(conninfo)?.[1];
  return { host, port: port === undefined ? null : Number(port), slot: await currentSetting(db, 'primary_slot_name') };
}
