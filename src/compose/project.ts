import { chmod, mkdir, readdir, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { UsageError } from '../errors.js';
import { PRIMARY_INIT_FILE, REPLICA_ENTRYPOINT_FILE, renderComposeFile } from './compose-file.js';
import { generateSecrets, renderEnvFile, type ComposeSecrets } from './env-file.js';
import { PGADMIN_SERVICE, PRIMARY_SERVICE, REPLICATION_USER, replicaNames } from './layout.js';
import type { ComposeOptions } from './options.js';
import { renderServersJson, SERVERS_FILE } from './pgadmin.js';
import { renderPrimaryInit } from './primary-init.js';
import { renderProjectReadme } from './readme.js';
import { REPLICA_ENTRYPOINT } from './replica-entrypoint.js';

export const COMPOSE_FILE = 'docker-compose.yml';
export const ENV_FILE = '.env';

export interface ProjectFile {
  readonly name: string;
  readonly content: string;
  /**
   * .env holds every secret: 0600. Scripts and servers.json are read inside containers by other
   * uids (postgres, pgAdmin's 5050), so they must be world-readable; none holds a secret.
   */
  readonly mode: number;
}

export interface ComposeResult {
  readonly dir: string;
  readonly files: string[];
  readonly services: string[];
}

/** Every file of the project, rendered. Pure apart from the secrets it is given. */
export function projectFiles(options: ComposeOptions, secrets: ComposeSecrets): ProjectFile[] {
  const files: ProjectFile[] = [
    { name: COMPOSE_FILE, content: renderComposeFile(options), mode: 0o644 },
    { name: ENV_FILE, content: renderEnvFile(secrets), mode: 0o600 },
    // So `git add .` in the project cannot commit the secrets.
    { name: '.gitignore', content: `${ENV_FILE}\n`, mode: 0o644 },
    {
      name: PRIMARY_INIT_FILE,
      content: renderPrimaryInit({ replicationUser: REPLICATION_USER, slots: replicaNames(options), subnet: options.subnet }),
      mode: 0o755,
    },
    { name: REPLICA_ENTRYPOINT_FILE, content: REPLICA_ENTRYPOINT, mode: 0o755 },
    { name: 'README.md', content: renderProjectReadme(options), mode: 0o644 },
  ];
  if (options.pgadmin) files.push({ name: SERVERS_FILE, content: renderServersJson(options), mode: 0o644 });
  return files;
}

/** Refuses a directory that exists with anything in it (or a file there): nothing of the user's is overwritten. */
async function assertFreeDir(dir: string): Promise<void> {
  let entries: string[];
  try {
    entries = await readdir(dir);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return;
    if (code === 'ENOTDIR') throw new UsageError(`${dir} is a file, not a directory`, { hint: 'choose another -o DIR' });
    throw error;
  }
  if (entries.length > 0) {
    throw new UsageError(`${dir} exists and is not empty; pgrepl compose writes only into a new or empty directory`, {
      hint: 'choose another -o DIR, or remove that directory first',
    });
  }
}

/** Writes the project into options.outDir (new or empty), with fresh secrets. */
export async function writeComposeProject(options: ComposeOptions, secrets = generateSecrets(options.pgadmin)): Promise<ComposeResult> {
  const dir = resolve(options.outDir);
  await assertFreeDir(dir);
  await mkdir(dir, { recursive: true });
  const files = projectFiles(options, secrets);
  for (const file of files) {
    const path = join(dir, file.name);
    // 'wx': never replace a file that appeared meanwhile; chmod because the umask trims `mode`.
    await writeFile(path, file.content, { mode: file.mode, flag: 'wx' });
    await chmod(path, file.mode);
  }
  const services = [PRIMARY_SERVICE, ...replicaNames(options), ...(options.pgadmin ? [PGADMIN_SERVICE] : [])];
  return { dir, files: files.map((f) => f.name), services };
}
