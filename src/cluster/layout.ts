import { chmod, mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname, join, relative, sep } from 'node:path';
import { giveTo, type OsUser } from '../pg/os-user.js';
import { SPEC_FILE } from '../spec/file.js';

/**
 * Where everything of one cluster lives, and the one module that writes files under it. Files are
 * given to the PostgreSQL OS user, and written atomically (temp file + rename) with explicit modes.
 *
 *   DIR/pgrepl.yaml             desired state (no secrets)
 *   DIR/.pgrepl-cluster         marks DIR as made by pgrepl; --destroy removes only such a DIR
 *   DIR/secrets/*.pgpass        0600 libpq password files, in a 0700 directory
 *   DIR/nodes/NAME/data         the node's data directory
 *   DIR/nodes/NAME/node.json    how far pgrepl got building it (initializing, cloning, ready)
 *   DIR/nodes/NAME/postgres.log the server's log
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
  nodeDir(name: string): string {
    return join(this.root, 'nodes', name);
  }
  dataDir(name: string): string {
    return join(this.nodeDir(name), 'data');
  }
  logFile(name: string): string {
    return join(this.nodeDir(name), 'postgres.log');
  }
  nodeStateFile(name: string): string {
    return join(this.nodeDir(name), 'node.json');
  }

  /** Creates `path` and any missing parents below root, each with `mode` and owned by the PostgreSQL user. */
  async ensureDir(path: string, mode = 0o700): Promise<void> {
    const parts = relative(this.root, path).split(sep).filter(Boolean);
    let current = this.root;
    for (const dir of [this.root, ...parts.map((p) => (current = join(current, p)))]) {
      await mkdir(dir, { recursive: true, mode });
      await chmod(dir, mode);
      await giveTo(this.user, dir);
    }
  }

  /** Writes a file atomically with `mode`, owned by the PostgreSQL user. */
  async writeFile(path: string, content: string, mode = 0o600): Promise<void> {
    const temp = join(dirname(path), `.${process.pid}.tmp`);
    await writeFile(temp, content, { mode });
    await chmod(temp, mode);
    await giveTo(this.user, temp);
    await rename(temp, path);
  }

  async readFile(path: string): Promise<string> {
    return readFile(path, 'utf8');
  }
}
