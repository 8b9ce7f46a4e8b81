/**
 * The server settings every pgrepl node runs with, as data: one list that both renderers read, so
 * the local cluster (`pgrepl.conf`, see conf.ts) and the Docker Compose project (`postgres -c ...`)
 * can never disagree on a value. Pure.
 */

/** Strings are quoted in a conf file and bare on a `-c` flag; booleans are `on`/`off` in both. */
export type SettingValue = string | number | boolean;
export type Setting = readonly [name: string, value: SettingValue];

/** What a node's replication settings depend on. */
export interface ReplicationSettings {
  /** Name the node reports as `cluster_name`; walreceivers use it as application_name upstream. */
  readonly name: string;
  readonly maxWalSenders: number;
  readonly maxReplicationSlots: number;
  /** Cap on WAL a slot may retain, in MB, so a dead replica can never fill the disk. */
  readonly maxSlotWalKeepSizeMb: number;
  /** WAL kept regardless of slots, in MB, so pg_rewind finds the common checkpoint after a failover. */
  readonly walKeepSizeMb: number;
  /** `synchronous_standby_names`, or '' for asynchronous replication. */
  readonly synchronousStandbyNames: string;
  /** recovery_min_apply_delay for a delayed replica ('0' otherwise). */
  readonly recoveryMinApplyDelay: string;
  /** PostgreSQL 14+ on Linux: a fresh clone's first start fsyncs its data directory with one syncfs. */
  readonly syncfsAtStartup?: boolean;
  /** Set only for the moments of a promotion (see cluster/promote.ts); PostgreSQL's default otherwise. */
  readonly walRetrieveRetryInterval?: string;
}

/**
 * Every setting pgrepl owns, in a stable order. `connection` (listen_addresses, port, socket
 * directory) differs by where the node runs, so the caller supplies it; it follows cluster_name.
 */
export function nodeSettings(s: ReplicationSettings, connection: readonly Setting[] = []): Setting[] {
  return [
    ['cluster_name', s.name],
    ...connection,
    ['password_encryption', 'scram-sha-256'],
    // `replica` is enough for physical replication; `logical` writes ~4% more WAL for nothing here.
    ['wal_level', 'replica'],
    ['max_wal_senders', s.maxWalSenders],
    ['max_replication_slots', s.maxReplicationSlots],
    ['max_slot_wal_keep_size', `${s.maxSlotWalKeepSizeMb}MB`],
    ['wal_keep_size', `${s.walKeepSizeMb}MB`],
    ['wal_compression', true],
    // pg_rewind needs hint bits WAL-logged; data checksums also do it, this keeps it true for any initdb.
    ['wal_log_hints', true],
    ['hot_standby', true],
    ['hot_standby_feedback', true],
    ['synchronous_standby_names', s.synchronousStandbyNames],
    ['recovery_min_apply_delay', s.recoveryMinApplyDelay],
    ...(s.syncfsAtStartup ? ([['recovery_init_sync_method', 'syncfs']] as const) : []),
    ...(s.walRetrieveRetryInterval ? ([['wal_retrieve_retry_interval', s.walRetrieveRetryInterval]] as const) : []),
    ['logging_collector', false],
    ['log_line_prefix', '%m [%p] %q%u@%d '],
    ['log_replication_commands', true],
  ];
}

/** A value's bare text, as `postgres -c name=value` takes it (one argv element, so nothing is quoted). */
export function settingText(value: SettingValue): string {
  if (typeof value === 'boolean') return value ? 'on' : 'off';
  return String(value);
}

/** The settings as server arguments: `['-c', 'name=value', ...]`, each value one argv element. */
export function renderServerOptions(settings: readonly Setting[]): string[] {
  return settings.flatMap(([name, value]) => ['-c', `${name}=${settingText(value)}`]);
}

/**
 * `synchronous_standby_names` for a quorum of `count` among `standbys`, or '' (asynchronous) when
 * count is 0. ANY, not FIRST: any K acknowledgements suffice, so one slow replica does not stall commits.
 */
export function quorumStandbyNames(count: number, standbys: readonly string[]): string {
  return count > 0 ? `ANY ${count} (${standbys.join(',')})` : '';
}
