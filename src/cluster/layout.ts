import { chmodSync, chownSync, lstatSync, mkdirSync } from 'node:fs';
import { basename, dirname, join, relative, sep } from 'node:path';
import { assertKind, OpenDir, readFileNoFollowSync, unsafePath, UnsafePathError, writeFileAtomic } from '../util/safe-fs.js';
import type { OsUser } from '../pg/os-user.js';
import { SPEC_FILE } from '../spec/file.js';
import { removeTree } from './remove-tree.js';

export { UnsafePathError };

/**
 * Who owns a path under the cluster directory. `server`: the PostgreSQL OS user (data directories,
 * the passfile walreceivers read). `admin`: whoever runs pgrepl. When root runs pgrepl, everything
 * root later reads and trusts (the spec, build states, the superuser passfile) stays root's, so the
 * postgres account (which any SQL superuser can act as) cannot steer root through it.
 */
export type Owner = 'server' | 'admin';

/**
 * Where everything of one cluster lives, and the one module that writes, reads and removes files
 * under it. The rule it keeps: root never follows a path component the PostgreSQL OS user can write
 * (that account is anyone who is a SQL superuser). Reads and writes go through the directory opened
 * component by component without following links (util/safe-fs OpenDir), writes are atomic (a new,
 * exclusively created temp file, then rename), trees are removed by remove-tree.ts, and a node
 * path that is a symlink, or not a directory / regular file, is refused by name when asked for.
 *
 *   DIR/pgrepl.yaml               desired state (no secrets)                          admin
 *   DIR/.pgrepl-cluster           marks DIR as made by pgrepl                          admin
 *   DIR/state/NAME.json           how far pgrepl got building a node (state/ 0755)     admin
 *   DIR/intent.json               a failover/switchover in progress, 0600              admin
 *   DIR/secrets/superuser.pgpass  0600                                                 admin
 *   DIR/secrets/replication.pgpass 0600, read by walreceivers                          server
 *   DIR/secrets/agent-api.key     0600, HA agents sign their POSTs with it             admin
 *   DIR/nodes/NAME                0700                                                 server
 *   DIR/nodes/NAME/data           the node's data directory                            server
 *   DIR/nodes/NAME/postgres.log   the server's log, 0600                               server
 */
export class ClusterLayout {
  constructor(
    readonly root: string,
    readonly user: OsUser,
  ) {}

  get specFile(): string {
    return join(this.root, SPEC_FILE);
  }
  get marker(): string {
    return join(this.root, '.pgrepl-cluster');
  }
  get secretsDir(): string {
    return join(this.root, 'secrets');
  }
  get superuserPassfile(): string {
    return join(this.secretsDir, 'superuser.pgpass');
  }
  get replicationPassfile(): string {
    return join(this.secretsDir, 'replication.pgpass');
  }
  /** The key HA agents sign their POSTs to each other with (see ha/agent-key.ts). */
  get agentApiKeyFile(): string {
    return join(this.secretsDir, 'agent-api.key');
  }
  get stateDir(): string {
    return join(this.root, 'state');
  }
  get nodesDir(): string {
    return join(this.root, 'nodes');
  }
  /** A node's paths, each refused (UnsafePathError, naming it) when it is there but a symlink or the wrong kind. */
  nodeDir(name: string): string {
    return checked(join(this.nodesDir, name), 'directory');
  }
  dataDir(name: string): string {
    return checked(join(this.nodeDir(name), 'data'), 'directory');
  }
  logFile(name: string): string {
    return checked(join(this.nodeDir(name), 'postgres.log'), 'regular file');
  }
  nodeStateFile(name: string): string {
    return join(this.stateDir, `${name}.json`);
  }
  /** HA agents' pid files and logs (admin's: root reads the pids back to signal them). */
  get agentsDir(): string {
    return join(this.root, 'agents');
  }
  agentPidFile(name: string): string {
    return join(this.agentsDir, `${name}.pid`);
  }
  agentLogFile(name: string): string {
    return join(this.agentsDir, `${name}.log`);
  }
  /** A failover or switchover in progress (see intent.ts); 0600, admin's. */
  get intentFile(): string {
    return join(this.root, 'intent.json');
  }
  /** The local DCS's files (the leader lease of a one-machine HA cluster). */
  get dcsDir(): string {
    return join(this.root, 'dcs');
  }

  /**
   * Directories the PostgreSQL user must pass through but not change: admin's, and open for
   * traversal (0711) when PostgreSQL runs as another user.
   */
  get passThroughMode(): number {
    return this.user.switchTo ? 0o711 : 0o700;
  }

  #own(path: string, owner: Owner): void {
    if (owner === 'server' && this.user.switchTo) chownSync(path, this.user.uid, this.user.gid);
  }

  /**
   * Creates `path` and missing parents below root (parents as pass-through admin dirs), refusing
   * symlinks. Synchronous inside, as safe-fs is: a handful of metadata calls.
   */
  async ensureDir(path: string, mode: number, owner: Owner): Promise<void> {
    const parts = relative(this.root, path).split(sep).filter(Boolean);
    let current = this.root;
    const chain = [this.root, ...parts.map((p) => (current = join(current, p)))];
    for (const [i, dir] of chain.entries()) {
      const last = i === chain.length - 1;
      try {
        mkdirSync(dir, { mode });
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      }
      const stats = lstatSync(dir);
      if (!stats.isDirectory()) throw unsafePath(dir, stats, 'directory');
      chmodSync(dir, last ? mode : this.passThroughMode);
      this.#own(dir, last ? owner : 'admin');
    }
  }

  /** Writes a file atomically with `mode` and `owner`; never through a symlink, even in a directory the server user owns. */
  async writeFile(path: string, content: string, mode: number, owner: Owner): Promise<void> {
    const chown = owner === 'server' && this.user.switchTo ? this.user : undefined;
    await OpenDir.with(this.root, dirname(path), (dir) => writeFileAtomic(dir.at(basename(path)), content, mode, chown));
  }

  /** Reads a regular file under the cluster directory, refusing a symlink or a FIFO in its place or on the way. */
  async readFile(path: string): Promise<string> {
    return OpenDir.with(this.root, dirname(path), (dir) => readFileNoFollowSync(dir.at(basename(path)), path));
  }

  /** Removes a file or directory tree under the cluster directory, following no symlink (see remove-tree.ts). */
  async removeTree(path: string): Promise<void> {
    await removeTree(this.root, path, this.user);
  }
}

function checked(path: string, wanted: 'directory' | 'regular file'): string {
  assertKind(path, wanted);
  return path;
}
