import { isAbsolute } from 'node:path';
import * as z from 'zod/mini';
import en from 'zod/v4/locales/en.js';
import { CONTROL_CHARS, isHostAddress } from '../util/values.js';

// zod/mini with only the English messages: the classic API and every locale would be ~70% of the
// CLI bundle, loaded on every command.
z.config(en());

/** PostgreSQL identifiers pgrepl uses as node, slot and application names: safe unquoted everywhere. */
const NAME = /^[a-z][a-z0-9_]{0,62}$/;

/** A duration in PostgreSQL's own units, as recovery_min_apply_delay accepts it. */
export const DURATION = /^\d+(ms|s|min|h|d)$/;

const NAME_MESSAGE = 'must be lower-case letters, digits or _, starting with a letter, at most 63 characters (it names a replication slot)';

/**
 * Every field that reaches a PostgreSQL file or a command line is validated as what it is; the
 * renderers (pg/quote.ts) quote again and refuse control characters, as a second line.
 */
const nodeName = z.string().check(z.regex(NAME, NAME_MESSAGE));

/** An IP address or a DNS name: never a network (pg_hba.conf would admit all of it), whitespace or a line break. */
const host = z.string().check(z.refine(isHostAddress, 'must be an IP address or a DNS host name (not a network, no spaces)'));

/** POSIX portable user names, as useradd takes them. */
const OS_USER = /^[a-z_][a-z0-9_-]{0,31}$/;

/** An absolute path with no control character (it is given to programs and written into files). */
const absolutePath = z.string().check(
  z.refine((p) => isAbsolute(p), 'must be an absolute path'),
  z.refine((p) => !CONTROL_CHARS.test(p), 'must not contain control characters (line breaks, tabs, ...)'),
  z.maxLength(1024, 'must be at most 1024 characters'),
);

const nodeSchema = z.strictObject({
  name: nodeName,
  host: z._default(host, '127.0.0.1'),
  port: z.int().check(z.minimum(1024, 'must be 1024-65535'), z.maximum(65535, 'must be 1024-65535')),
  /** The node this one streams from; absent for the primary. */
  upstream: z.optional(nodeName),
  /** recovery_min_apply_delay: the replica applies WAL this long after the primary wrote it. */
  delay: z.optional(z.string().check(z.regex(DURATION, 'must be a PostgreSQL duration such as 500ms, 30s, 5min, 1h or 1d'))),
  /** HA: the port of this node's agent's REST API (health checks for load balancers). */
  apiPort: z.optional(z.int().check(z.minimum(1024, 'must be 1024-65535'), z.maximum(65535, 'must be 1024-65535'))),
  /** HA: this node is never promoted automatically. */
  nofailover: z.optional(z.boolean()),
});

/** Automatic failover: one agent per node, a leader lease in the DCS. Timing rules are checked in ha/. */
const haSchema = z.strictObject({
  /** Names this cluster in a shared DCS (its etcd keys live under /pgrepl/SCOPE/). */
  scope: z.string().check(z.regex(NAME, 'must be lower-case letters, digits or _, starting with a letter')),
  /** `local` (a lease in the cluster directory, for nodes on one machine) or `etcd://host:port[,host:port...]`. */
  dcs: z._default(z.string().check(z.minLength(1)), 'local'),
  ttlMs: z._default(z.int().check(z.minimum(1000, 'must be at least 1000 (ms)')), 2000),
  loopWaitMs: z._default(z.int().check(z.minimum(10, 'must be at least 10 (ms)')), 250),
  retryTimeoutMs: z._default(z.int().check(z.minimum(50, 'must be at least 50 (ms)')), 750),
});

const replicationSchema = z.strictObject({
  user: z._default(z.string().check(z.regex(NAME, 'must be a plain lower-case role name'), z.refine((u) => u !== 'postgres', 'must not be the superuser postgres')), 'replicator'),
  /** Cap on the WAL one slot may hold back; past it the slot is invalidated instead of filling the disk. */
  maxSlotWalKeepSizeMb: z._default(z.int().check(z.minimum(64, 'must be at least 64 (MB)')), 2048),
  /** WAL kept for pg_rewind after a failover, independent of slots. */
  walKeepSizeMb: z._default(z.int().check(z.minimum(0)), 128),
  maxWalSenders: z._default(z.int().check(z.minimum(2), z.maximum(1000)), 10),
  maxReplicationSlots: z._default(z.int().check(z.minimum(2), z.maximum(1000)), 10),
  /** Synchronous quorum K: a commit waits for K of the quorum replicas (0 = asynchronous). */
  sync: z._default(z.int().check(z.minimum(0)), 0),
});

const postgresSchema = z.strictObject({
  bindir: z.optional(absolutePath),
  /** The OS user PostgreSQL runs as when pgrepl runs as root. */
  osUser: z.optional(z.string().check(z.regex(OS_USER, 'must be an OS user name (lower-case letters, digits, _ or -)'))),
});

export const clusterSpecSchema = z
  .strictObject({
    version: z.literal(1),
    postgres: z._default(postgresSchema, {}),
    replication: z._default(replicationSchema, z.parse(replicationSchema, {})),
    nodes: z.array(nodeSchema).check(z.minLength(1, 'needs at least the primary')),
    ha: z.optional(haSchema),
  })
  .check(z.superRefine((spec, ctx) => {
    const names = new Set<string>();
    const endpoints = new Set<string>();
    spec.nodes.forEach((node, i) => {
      if (names.has(node.name)) ctx.addIssue({ code: 'custom', path: ['nodes', i, 'name'], message: `duplicate node name '${node.name}'` });
      names.add(node.name);
      const endpoint = `${node.host}:${node.port}`;
      if (endpoints.has(endpoint)) ctx.addIssue({ code: 'custom', path: ['nodes', i, 'port'], message: `${endpoint} is used by two nodes` });
      endpoints.add(endpoint);
      if (node.apiPort !== undefined) {
        const api = `${node.host}:${node.apiPort}`;
        if (endpoints.has(api)) ctx.addIssue({ code: 'custom', path: ['nodes', i, 'apiPort'], message: `${api} is used twice` });
        endpoints.add(api);
      }
    });
    const primaries = spec.nodes.filter((n) => n.upstream === undefined);
    if (primaries.length !== 1) {
      ctx.addIssue({ code: 'custom', path: ['nodes'], message: `exactly one node must have no upstream (the primary); found ${primaries.length}` });
    }
    spec.nodes.forEach((node, i) => {
      if (node.upstream !== undefined && !names.has(node.upstream)) {
        ctx.addIssue({ code: 'custom', path: ['nodes', i, 'upstream'], message: `names no node: '${node.upstream}'` });
      }
    });
    const members = spec.nodes.filter((n) => isQuorumMember(spec.nodes, n)).length;
    if (spec.replication.sync > members) {
      ctx.addIssue({ code: 'custom', path: ['replication', 'sync'], message: `${spec.replication.sync} synchronous standbys asked for, but only ${members} replicas stream directly from the primary without a delay` });
    }
    const cycle = findCycle(spec.nodes);
    if (cycle) ctx.addIssue({ code: 'custom', path: ['nodes'], message: `upstreams form a loop: ${cycle.join(' -> ')}` });
  }));

/**
 * Replicas that can acknowledge synchronous commits: streaming straight from the primary (cascaded
 * walreceivers never report to it) and not delayed.
 */
export function isQuorumMember(nodes: ReadonlyArray<{ name: string; upstream?: string | undefined; delay?: string | undefined }>, node: { upstream?: string | undefined; delay?: string | undefined }): boolean {
  const primary = nodes.find((n) => n.upstream === undefined);
  return node.upstream !== undefined && node.upstream === primary?.name && node.delay === undefined;
}

function findCycle(nodes: ReadonlyArray<{ name: string; upstream?: string | undefined }>): string[] | undefined {
  const upstreamOf = new Map(nodes.map((n) => [n.name, n.upstream]));
  for (const start of nodes) {
    const path = [start.name];
    for (let next = start.upstream; next !== undefined; next = upstreamOf.get(next)) {
      if (path.includes(next)) return [...path, next];
      path.push(next);
    }
  }
  return undefined;
}

export type ClusterSpec = z.output<typeof clusterSpecSchema>;
export type NodeSpec = ClusterSpec['nodes'][number];
export type ReplicationSpec = ClusterSpec['replication'];
export type HaSpec = NonNullable<ClusterSpec['ha']>;
