/**
 * Renders the server settings pgrepl owns into `pgrepl.conf`, a file included at the end of each
 * node's postgresql.conf. Pure: same input, same text, so the file can be compared and rewritten.
 */
export interface ServerSettings {
  /** Name the node reports as `cluster_name`; walreceivers use it as application_name upstream. */
  readonly name: string;
  readonly listenAddresses: readonly string[];
  readonly port: number;
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
  /** PostgreSQL 14+ on Linux: fsync a fresh clone's data directory with one syncfs at first start. */
  readonly syncfsAtStartup: boolean;
}

export const CONF_FILE = 'pgrepl.conf';
export const INCLUDE_LINE = `include = '${CONF_FILE}'  # added by pgrepl`;

export function quoteConfValue(value: string): string {
  return `'${value.replace(/\\/g, '\\\\').replace(/'/g, "''")}'`;
}

export function renderServerConf(s: ServerSettings): string {
  const settings: Array<[string, string | number]> = [
    ['cluster_name', quoteConfValue(s.name)],
    ['listen_addresses', quoteConfValue(s.listenAddresses.join(','))],
    ['port', s.port],
    // TCP only: a socket path under a deep cluster directory can exceed the 107-byte limit.
    ['unix_socket_directories', "''"],
    ['password_encryption', "'scram-sha-256'"],
    ['wal_level', "'replica'"],
    ['max_wal_senders', s.maxWalSenders],
    ['max_replication_slots', s.maxReplicationSlots],
    ['max_slot_wal_keep_size', quoteConfValue(`${s.maxSlotWalKeepSizeMb}MB`)],
    ['wal_keep_size', quoteConfValue(`${s.walKeepSizeMb}MB`)],
    ['wal_compression', 'on'],
    // pg_rewind needs hint bits WAL-logged; data checksums also do it, this keeps it true for any initdb.
    ['wal_log_hints', 'on'],
    ['hot_standby', 'on'],
    ['hot_standby_feedback', 'on'],
    // Set on every node, so a promoted replica enforces the same quorum from its first commit.
    ['synchronous_standby_names', quoteConfValue(s.synchronousStandbyNames)],
    ['recovery_min_apply_delay', quoteConfValue(s.recoveryMinApplyDelay)],
    ...(s.syncfsAtStartup ? ([['recovery_init_sync_method', 'syncfs']] as Array<[string, string]>) : []),
    ['logging_collector', 'off'],
    ['log_line_prefix', quoteConfValue('%m [%p] %q%u@%d ')],
    ['log_replication_commands', 'on'],
  ];
  const body = settings.map(([key, value]) => `${key} = ${value}`).join('\n');
  return `# Managed by pgrepl: rewritten on every \`pgrepl up\`. Put your own settings in postgresql.conf\n# before the include line, or in postgresql.auto.conf (ALTER SYSTEM).\n${body}\n`;
}
