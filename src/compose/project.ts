import { chmod, mkdir, readdir, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { UsageError } from '../errors.js';
import { renderComposeFile } from './compose-file.js';
import { INIT_HOOK_FILE, INITIAL_PRIMARY, NODE_SCRIPT_FILE, nodeNames, PGADMIN_SERVICE, PRIMARY_FILE, SECRETS_DIR, STATE_DIR } from './layout.js';
import { renderInitHook, renderNodeScript } from './node-scripts.js';
import type { ComposeOptions } from './options.js';
import { renderServersJson, SERVERS_FILE } from './pgadmin.js';
import { renderProjectReadme } from './readme.js';
import { generateSecrets, secretFile, secretMode, type ComposeSecrets, type SecretName } from './secrets.js';

export const COMPOSE_FILE = 'docker-compose.yml';

export interface ProjectFile {
  readonly name: string;
  readonly content: string;
  /**
   * Secrets 0600 (see secretMode). Scripts, state/ and servers.json are read inside containers by
   * other uids (postgres, pgAdmin's 5050), so they are world-readable; none holds a secret.
   */
  readonly mode: number;
}

export interface ComposeResult {
  readonly dir: string;
  readonly files: string[];
  readonly services: string[];
}

/** Directories of the project, created before the files, with their modes. */
export const PROJECT_DIRS: ReadonlyArray<readonly [string, number]> = [
  [SECRETS_DIR, 0o700],
  [STATE_DIR, 0o755],
];

/** Every file of the project, rendered. Pure apart from the secrets it is given. */
export function projectFiles(options: ComposeOptions, secrets: ComposeSecrets): ProjectFile[] {
  const files: ProjectFile[] = [
    { name: COMPOSE_FILE, content: renderComposeFile(options), mode: 0o644 },
    // So `git add .` in the project cannot commit the secrets.
    { name: '.gitignore', content: `${SECRETS_DIR}/\n`, mode: 0o644 },
    { name: NODE_SCRIPT_FILE, content: renderNodeScript(), mode: 0o755 },
    { name: INIT_HOOK_FILE, content: renderInitHook(), mode: 0o755 },
    { name: `${STATE_DIR}/${PRIMARY_FILE}`, content: `${INITIAL_PRIMARY}\n`, mode: 0o644 },
    { name: 'README.md', content: renderProjectReadme(options), mode: 0o644 },
    ...Object.entries(secrets).map(([name, value]) => ({ name: secretFile(name as SecretName), content: value as string, mode: secretMode(name as SecretName) })),
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
  for (const [name, mode] of PROJECT_DIRS) {
    await mkdir(join(dir, name), { mode });
    await chmod(join(dir, name), mode);
  }
  const files = projectFiles(options, secrets);
  for (const file of files) {
    const path = join(dir, file.name);
    // 'wx': never replace a file that appeared meanwhile; chmod because the umask trims `mode`.
    await writeFile(path, file.content, { mode: file.mode, flag: 'wx' });
    await chmod(path, file.mode);
  }
  const services = [...nodeNames(options), ...(options.pgadmin ? [PGADMIN_SERVICE] : [])];
  return { dir, files: files.map((f) => f.name), services };
}
