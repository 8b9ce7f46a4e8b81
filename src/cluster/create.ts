import { statfs } from 'node:fs/promises';
import { userInfo } from 'node:os';
import { join } from 'node:path';
import { PgreplError, UsageError } from '../errors.js';
import { findBinaries } from '../pg/binaries.js';
import { OsUserError } from '../pg/errors.js';
import { canReach, resolveOsUser, type OsUser } from '../pg/os-user.js';
import { runningServerEvidence } from '../pg/stray.js';
import { renderSpec, SPEC_FILE } from '../spec/file.js';
import { clusterSpecSchema, type ClusterSpec } from '../spec/schema.js';
import { busyHost, findFreePorts } from '../util/ports.js';
import type { Cluster } from './context.js';
import { PortInUseError } from './errors.js';
import { ClusterLayout } from './layout.js';
import { LOCK_FILE } from './lock.js';
import { classifyDir, notAClusterError } from './open.js';
import { removeTree } from './remove-tree.js';
import { createSecrets } from './secrets.js';
import { isHostAddress } from '../util/values.js';

export interface CreateOptions {
  readonly replicas: number;
  /** First port; nodes get port, port+1, ... When omitted, the first free ports from 5432 up. */
  readonly port?: number;
  readonly bindir?: string;
  readonly osUser?: string;
  /** Synchronous quorum K (0 = asynchronous). */
  readonly sync?: number;
  /** Addresses of the new nodes: one for all, or one per node in order (default 127.0.0.1). */
  readonly hosts?: readonly string[];
  /** Whether the directory was created for this cluster (so failure, and --destroy, may remove it). */
  readonly createdDir: boolean;
}

export const DEFAULT_FIRST_PORT = 5432;
export const DEFAULT_HOST = '127.0.0.1';

/**
 * The address of each of `count` new nodes from `--host`: absent, 127.0.0.1 for all; one address,
 * that one for all; a list, one per node in order. Each an IP address or a DNS name, as pg_hba.conf
 * admits replication from exactly these.
 */
export function hostsForNewNodes(hosts: readonly string[] | undefined, count: number): string[] {
  const given = hosts ?? [DEFAULT_HOST];
  for (const host of given) {
    if (!isHostAddress(host)) throw new UsageError(`--host: '${host}' is not an IP address or a DNS host name`, { hint: 'give addresses such as 10.0.0.5 or db1.example.com, comma-separated, no networks or spaces' });
  }
  if (given.length !== 1 && given.length !== count) {
    throw new UsageError(`--host: ${given.length} addresses given for ${count} new nodes`, { hint: `give one address for all of them, or exactly ${count}, in node order` });
  }
  return Array.from({ length: count }, (_, i) => given[given.length === 1 ? 0 : i]!);
}

/**
 * Ports for `count` new nodes: exactly port..port+count-1 when asked for, else the first free ones.
 * `hosts` are the addresses the new nodes' servers will listen on: a port must be free there.
 */
export async function choosePorts(count: number, port: number | undefined, taken: ReadonlySet<number> = new Set(), hosts: readonly string[] = [DEFAULT_HOST]): Promise<number[]> {
  if (port === undefined) return findFreePorts(count, DEFAULT_FIRST_PORT, taken, hosts);
  const ports = Array.from({ length: count }, (_, i) => port + i);
  for (const p of ports) {
    if (p > 65535) throw new PortInUseError(`port ${p} is out of range`, { hint: 'choose a lower --port' });
    const busy = taken.has(p) ? null : await busyHost(p, hosts);
    if (taken.has(p) || busy !== null) {
      throw new PortInUseError(`port ${p} is already in use ${busy === null ? 'by another node of this cluster' : `on ${busy}`}`, { hint: `choose another --port, or omit it to use the first free ports from ${DEFAULT_FIRST_PORT}` });
    }
  }
  return ports;
}

/** Ports for `count` nodes joining `spec` on `hosts`: from `port` exactly, else the next free ones after the cluster's. */
export async function portsForNewNodes(spec: ClusterSpec, count: number, port: number | undefined, hosts: readonly string[]): Promise<number[]> {
  const taken = new Set(spec.nodes.map((n) => n.port));
  return port === undefined ? findFreePorts(count, Math.max(...taken) + 1, taken, hosts) : choosePorts(count, port, taken, hosts);
}

/**
 * The slot WAL cap: 2 GiB, or a tenth of the free disk when that is smaller, never below 256 MiB.
 * Recorded in the spec, so it does not drift as the disk fills.
 */
async function slotWalCapMb(dir: string): Promise<number> {
  try {
    const fs = await statfs(dir);
    const freeMb = Math.floor((fs.bavail * fs.bsize) / 2 ** 20);
    return Math.max(256, Math.min(2048, Math.floor(freeMb / 10)));
  } catch {
    return 2048;
  }
}

/** The spec of a new cluster; what the options ask that it cannot be is refused here, before anything is written. */
export function initialSpec(ports: readonly number[], user: OsUser, capMb: number, bindir?: string, sync = 0, hosts: readonly string[] = ports.map(() => DEFAULT_HOST)): ClusterSpec {
  const result = clusterSpecSchema.safeParse({
    version: 1,
    postgres: { ...(bindir ? { bindir } : {}), ...(user.switchTo ? { osUser: user.name } : {}) },
    replication: { maxSlotWalKeepSizeMb: capMb, sync },
    nodes: ports.map((port, i) => ({ name: `pg${i + 1}`, host: hosts[i]!, port, ...(i > 0 ? { upstream: 'pg1' } : {}) })),
  });
  if (result.success) return result.data;
  const issue = result.error.issues[0]!;
  const flag = issue.path.includes('sync') ? '--sync' : issue.path.includes('bindir') ? '--bindir' : issue.path.includes('osUser') ? '--os-user' : issue.path.join('.');
  throw new UsageError(`${flag}: ${issue.message}`, { hint: issue.path.includes('sync') ? 'use a K no larger than --replicas' : 'fix the option and run the command again' });
}

/** Gives `root` to the PostgreSQL user and proves that user can use it. */
async function prepareRoot(root: string, user: OsUser): Promise<ClusterLayout> {
  const layout = new ClusterLayout(root, user);
  await layout.ensureDir(root, layout.passThroughMode, 'admin');
  if (!(await canReach(user, root))) {
    throw new OsUserError(`the OS user '${user.name}' that runs PostgreSQL cannot reach ${root} (a parent directory is closed to it)`, {
      hint: 'choose a --dir outside private home directories, e.g. /var/lib/pgrepl/NAME or /tmp/NAME',
    });
  }
  return layout;
}

/**
 * Writes a new cluster's spec, secrets and marker into an absent or empty directory. Nothing is
 * started; `up` does that. Refuses a directory that holds anything else.
 */
export async function createCluster(root: string, options: CreateOptions): Promise<Cluster> {
  const kind = await classifyDir(root);
  if (kind === 'foreign' || kind === 'cluster') throw notAClusterError(root);
  try {
    return await writeNewCluster(root, options);
  } catch (error) {
    // Only admin files exist yet (no server user's): removed as the current user.
    const me = userInfo();
    await discardNew(root, options.createdDir, { name: me.username, uid: me.uid, gid: me.gid, home: me.homedir, switchTo: false });
    throw error;
  }
}

/** Removes what creating a cluster at `root` made: all of it when pgrepl made `root`, else its own entries. */
async function discardNew(root: string, createdDir: boolean, user: OsUser): Promise<void> {
  if (createdDir) return removeTree(root, root, user);
  for (const entry of ['nodes', 'state', 'secrets', SPEC_FILE, '.pgrepl-cluster', LOCK_FILE]) await removeTree(root, join(root, entry), user);
}

/**
 * After a new cluster's first `up` failed: with no server running on any of its nodes, everything
 * it made is removed (a failed first `up` leaves nothing); otherwise `error` says what it left and
 * how to finish or remove it. Returns the error to throw.
 */
export async function undoNewCluster(cluster: Cluster, createdDir: boolean, error: unknown): Promise<unknown> {
  const running = [];
  for (const node of cluster.spec.nodes) {
    if ((await runningServerEvidence(join(cluster.layout.nodesDir, node.name, 'data'))) !== null) running.push(node.name);
  }
  if (running.length === 0) {
    await discardNew(cluster.layout.root, createdDir, cluster.user);
    return error;
  }
  if (error instanceof PgreplError) {
    const left = `left the new cluster in ${cluster.layout.root} (${running.join(', ')} running): \`pgrepl up\` finishes it, \`pgrepl down --destroy\` removes it`;
    Object.defineProperty(error, 'hint', { value: error.hint ? `${error.hint}; ${left}` : left });
  }
  return error;
}

async function writeNewCluster(root: string, options: CreateOptions): Promise<Cluster> {
  const hosts = hostsForNewNodes(options.hosts, options.replicas + 1);
  const [bin, user, ports] = await Promise.all([
    findBinaries(options.bindir),
    resolveOsUser(options.osUser),
    choosePorts(options.replicas + 1, options.port, new Set(), hosts),
  ]);
  const spec = initialSpec(ports, user, await slotWalCapMb(root), bin.bindir, options.sync, hosts);
  const layout = await prepareRoot(root, user);
  await layout.writeFile(layout.marker, `${JSON.stringify({ createdDir: options.createdDir, createdAt: new Date().toISOString() })}\n`, 0o644, 'admin');
  const secrets = await createSecrets(layout, spec.replication.user);
  await layout.writeFile(layout.specFile, renderSpec(spec), 0o644, 'admin');
  return { layout, spec, bin, user, secrets };
}

export async function saveSpec(cluster: Cluster, spec: ClusterSpec): Promise<Cluster> {
  await cluster.layout.writeFile(cluster.layout.specFile, renderSpec(spec), 0o644, 'admin');
  return { ...cluster, spec };
}
