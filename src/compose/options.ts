import { isIP } from 'node:net';
import { UsageError } from '../errors.js';

/** The Compose project the user asked for, validated. */
export interface ComposeOptions {
  readonly replicas: number;
  /** Quorum of replicas a commit waits for (`ANY K (...)`); 0 is asynchronous. */
  readonly sync: number;
  readonly pgadmin: boolean;
  /** Major version of the official `postgres` image, pinned in the tag. */
  readonly pgVersion: number;
  readonly outDir: string;
  /** Host port the primary is published on. */
  readonly port: number;
  /** Host address published ports bind to; loopback unless the user asks otherwise. */
  readonly bind: string;
  readonly pgadminPort: number;
  /**
   * The Compose network's IPv4 subnet when the user fixes one; otherwise Docker picks a free one
   * (so two projects can run at once) and each node admits whatever subnet it finds itself on.
   */
  readonly subnet?: string;
}

/** Flags as the CLI received them: strings, unvalidated. */
export interface RawComposeOptions {
  readonly replicas?: string;
  readonly sync?: string;
  readonly pgadmin?: boolean;
  readonly pgVersion?: string;
  readonly output?: string;
  readonly port?: string;
  readonly bind?: string;
  readonly pgadminPort?: string;
  readonly subnet?: string;
}

/**
 * 13, not 12: max_slot_wal_keep_size (and wal_keep_size) arrived in 13. Without the cap a stopped
 * replica's slot can fill the primary's disk, which pgrepl never generates. (12 is also end-of-life.)
 */
export const MIN_PG_VERSION = 13;
export const MAX_PG_VERSION = 18;
/** Every replica is a full copy of the data on one Docker host; past this it is a typo, not a plan. */
export const MAX_REPLICAS = 32;
/** Only an example in messages: by default Docker picks the subnet. */
export const EXAMPLE_SUBNET = '10.213.47.0/24';

function wholeNumber(flag: string, raw: string, min: number, max: number, hint: string): number {
  const n = /^\d+$/.test(raw) ? Number(raw) : NaN;
  if (!(n >= min && n <= max)) throw new UsageError(`${flag} must be a whole number from ${min} to ${max} (got '${raw}')`, { hint });
  return n;
}

function ipv4ToInt(address: string): number {
  return address.split('.').reduce((acc, octet) => acc * 256 + Number(octet), 0);
}

/** An IPv4 network address with a prefix that leaves room for every service and the gateway. */
export function validateSubnet(raw: string, services: number): string {
  const hint = `give a free private IPv4 network, e.g. --subnet ${EXAMPLE_SUBNET}`;
  const match = /^(\d+\.\d+\.\d+\.\d+)\/(\d+)$/.exec(raw);
  const prefix = Number(match?.[2]);
  if (!match || isIP(match[1]!) !== 4 || prefix < 8 || prefix > 29) {
    throw new UsageError(`--subnet must be an IPv4 network like ${EXAMPLE_SUBNET} with a prefix from /8 to /29 (got '${raw}')`, { hint });
  }
  const hostBits = 32 - prefix;
  if (ipv4ToInt(match[1]!) % 2 ** hostBits !== 0) {
    throw new UsageError(`--subnet ${raw} has host bits set: a network address ends in zeros for its prefix`, { hint });
  }
  // Network and broadcast addresses and the gateway are not for containers.
  if (2 ** hostBits - 3 < services) throw new UsageError(`--subnet ${raw} has too few addresses for ${services} services`, { hint });
  return raw;
}

/** Validates the flags. Every message names the flag and the allowed values; the hint says what to do. */
export function validateComposeOptions(raw: RawComposeOptions): ComposeOptions {
  const replicas = wholeNumber('--replicas', raw.replicas ?? '1', 1, MAX_REPLICAS,
    'a primary with streaming replicas needs at least one replica; each one is a full copy of the data');
  const sync = wholeNumber('--sync', raw.sync ?? '0', 0, MAX_REPLICAS, 'K is how many replicas must confirm each commit; 0 is asynchronous');
  if (sync > replicas) {
    throw new UsageError(`--sync ${sync} is more than --replicas ${replicas}: commits on the primary would wait forever`, {
      hint: `use --sync 0 to ${replicas}, or add replicas with --replicas`,
    });
  }
  const pgVersion = wholeNumber('--pg-version', raw.pgVersion ?? '17', MIN_PG_VERSION, MAX_PG_VERSION,
    `the official postgres image's major version, e.g. --pg-version 17 (13 is the oldest with max_slot_wal_keep_size, which bounds the WAL a slot keeps)`);
  const port = wholeNumber('--port', raw.port ?? '5432', 1, 65535 - replicas, `the host port pg1 is published on; pg2..pg${replicas + 1} follow it`);
  const pgadminPort = wholeNumber('--pgadmin-port', raw.pgadminPort ?? '5050', 1, 65535, "the host port pgAdmin's web UI is published on");
  const pgadmin = Boolean(raw.pgadmin);
  if (pgadmin && pgadminPort >= port && pgadminPort <= port + replicas) {
    throw new UsageError(`--pgadmin-port ${pgadminPort} is one of the nodes' ports (${port}-${port + replicas})`, { hint: 'give pgAdmin another host port' });
  }
  const bind = raw.bind ?? '127.0.0.1';
  if (isIP(bind) === 0) throw new UsageError(`--bind must be an IP address (got '${bind}')`, { hint: 'e.g. --bind 127.0.0.1 (this host only, the default)' });
  const subnet = raw.subnet === undefined ? undefined : validateSubnet(raw.subnet, 1 + replicas + (pgadmin ? 1 : 0));
  return {
    replicas, sync, pgadmin, pgVersion, outDir: raw.output ?? 'pgrepl-compose', port, bind, pgadminPort,
    ...(subnet === undefined ? {} : { subnet }),
  };
}
