import { accessSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { findBinaries } from '../pg/binaries.js';
import { resolveOsUser } from '../pg/os-user.js';
import { readSpec, SPEC_FILE } from '../spec/file.js';
import { primaryOf } from '../spec/topology.js';
import type { Cluster } from './context.js';
import { NoClusterError, NotAClusterError } from './errors.js';
import { ClusterLayout } from './layout.js';
import { loadSecrets } from './secrets.js';
import { LOCK_FILE, withClusterLock } from './lock.js';
import { refuseWhileInterrupted } from './intent.js';

export interface OpenOptions {
  readonly bindir?: string;
  readonly osUser?: string;
}

/** What is at a directory: nothing, an empty dir, a pgrepl cluster, or something else. */
export type DirKind = 'absent' | 'empty' | 'cluster' | 'foreign';

export async function classifyDir(root: string): Promise<DirKind> {
  let entries: string[];
  try {
    entries = readdirSync(root);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return 'absent';
    if ((error as NodeJS.ErrnoException).code === 'ENOTDIR') return 'foreign';
    throw error;
  }
  if (entries.filter((e) => e !== LOCK_FILE).length === 0) return 'empty';
  try {
    accessSync(join(root, SPEC_FILE));
    return 'cluster';
  } catch {
    return 'foreign';
  }
}

export function notAClusterError(root: string): NotAClusterError {
  return new NotAClusterError(`${root} exists and is not a pgrepl cluster (no pgrepl.yaml); pgrepl leaves it untouched`, {
    hint: 'choose an empty or new directory with --dir',
  });
}

/** The major version the primary's data directory was made with, if it exists. */
async function dataMajorVersion(layout: ClusterLayout, node: string): Promise<number | undefined> {
  let text = '';
  try {
    text = readFileSync(join(layout.dataDir(node), 'PG_VERSION'), 'utf8');
  } catch {
    /* not made yet */
  }
  const major = Number.parseInt(text, 10);
  return Number.isInteger(major) ? major : undefined;
}

/** Loads an existing cluster: spec, binaries, OS user and secrets. */
export async function openCluster(root: string, options: OpenOptions = {}): Promise<Cluster> {
  const kind = await classifyDir(root);
  if (kind === 'foreign') throw notAClusterError(root);
  if (kind !== 'cluster') {
    throw new NoClusterError(`no pgrepl cluster at ${root}`, { hint: `create one with \`pgrepl up --dir ${root}\`` });
  }
  const spec = await readSpec(join(root, SPEC_FILE));
  const user = await resolveOsUser(options.osUser ?? spec.postgres.osUser);
  const layout = new ClusterLayout(root, user);
  const bin = await findBinaries(options.bindir ?? spec.postgres.bindir, await dataMajorVersion(layout, primaryOf(spec).name));
  const secrets = await loadSecrets(layout, spec.replication.user);
  return { layout, spec, bin, user, secrets };
}

/**
 * Commands that may run while an interrupted failover or switchover is recorded: the two that
 * finish it, and `down` (stopping is always safe; the resume starts what it needs).
 */
const RUN_WHILE_INTERRUPTED = new Set(['failover', 'switchover', 'down']);

/**
 * Opens the cluster at `root` and runs `work` on it holding the cluster lock: how every command
 * that changes a cluster starts. Nothing is created or locked where there is no cluster. Any other
 * command refuses while an interrupted change of primary is recorded (see intent.ts).
 */
export async function changeCluster<T>(root: string, command: string, work: (cluster: Cluster) => Promise<T>, options: OpenOptions = {}): Promise<T> {
  if ((await classifyDir(root)) !== 'cluster') await openCluster(root, options); // throws the right error
  return withClusterLock(root, command, async () => {
    const cluster = await openCluster(root, options);
    if (!RUN_WHILE_INTERRUPTED.has(command)) await refuseWhileInterrupted(cluster.layout);
    return work(cluster);
  });
}
