import { execFile } from 'node:child_process';
import { access, constants, readdir } from 'node:fs/promises';
import { delimiter, join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { BinariesNotFoundError } from './errors.js';

const run = promisify(execFile);

/**
 * Oldest major version pgrepl supports. 12 made recovery.conf settings GUCs, but only 13 has
 * max_slot_wal_keep_size, without which a dead replica's slot can fill the disk.
 */
export const MIN_MAJOR_VERSION = 13;

/** Programs pgrepl runs; all must sit in one directory so their versions match. */
const REQUIRED = ['initdb', 'postgres', 'pg_basebackup', 'pg_ctl', 'pg_controldata', 'psql'] as const;
export type PgProgram = (typeof REQUIRED)[number] | 'pg_rewind' | 'pg_waldump';

export interface PgBinaries {
  readonly bindir: string;
  readonly majorVersion: number;
  readonly version: string;
  path(program: PgProgram): string;
}

const INSTALL_HINT =
  'install the server, e.g. `apt-get install postgresql` (Debian/Ubuntu) or `brew install postgresql`, ' +
  'or point pgrepl at it with --bindir DIR or PGREPL_BINDIR';

async function isExecutable(file: string): Promise<boolean> {
  try {
    await access(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

async function hasAll(dir: string): Promise<boolean> {
  for (const program of REQUIRED) if (!(await isExecutable(join(dir, program)))) return false;
  return true;
}

async function pgConfigBindir(): Promise<string | undefined> {
  try {
    return (await run('pg_config', ['--bindir'])).stdout.trim() || undefined;
  } catch {
    return undefined;
  }
}

/** Debian-style versioned installs, newest first. */
async function versionedDirs(): Promise<string[]> {
  try {
    const versions = await readdir('/usr/lib/postgresql');
    return versions
      .filter((v) => /^\d+$/.test(v))
      .sort((a, b) => Number(b) - Number(a))
      .map((v) => `/usr/lib/postgresql/${v}/bin`);
  } catch {
    return [];
  }
}

/** Where to look, in order: explicit choice, PATH, versioned install dirs, then pg_config (the one that costs a process). */
async function* candidateDirs(explicit: string | undefined): AsyncGenerator<string> {
  const chosen = explicit ?? process.env.PGREPL_BINDIR;
  if (chosen) {
    yield chosen;
    return;
  }
  yield* (process.env.PATH ?? '').split(delimiter).filter(Boolean);
  yield* await versionedDirs();
  const fromConfig = await pgConfigBindir();
  if (fromConfig) yield fromConfig;
}

async function readVersion(bindir: string): Promise<{ version: string; major: number }> {
  let stdout: string;
  try {
    stdout = (await run(join(bindir, 'postgres'), ['--version'])).stdout;
  } catch (error) {
    throw new BinariesNotFoundError(`${join(bindir, 'postgres')} --version failed: ${(error as Error).message.split('\n')[0]}`, { hint: INSTALL_HINT, cause: error });
  }
  const match = /(\d+)(?:\.(\d+))?/.exec(stdout);
  if (!match) throw new BinariesNotFoundError(`cannot read the version from ${join(bindir, 'postgres')} --version: ${stdout.trim()}`);
  return { version: match[0], major: Number(match[1]) };
}

/**
 * Finds a directory with every PostgreSQL server program pgrepl needs, version 13 or newer.
 * `knownMajor` (an existing cluster's PG_VERSION) spares the `postgres --version` call: a cluster
 * opens on every command, and failover pays for every millisecond of it.
 */
export async function findBinaries(explicitBindir?: string, knownMajor?: number): Promise<PgBinaries> {
  for await (const candidate of candidateDirs(explicitBindir)) {
    // Absolute: the programs run in other working directories, and the spec records where they are.
    const dir = resolve(candidate);
    if (!(await hasAll(dir))) continue;
    const { version, major } = knownMajor !== undefined && explicitBindir ? { version: String(knownMajor), major: knownMajor } : await readVersion(dir);
    if (major < MIN_MAJOR_VERSION) {
      throw new BinariesNotFoundError(`PostgreSQL ${version} in ${dir} is too old: pgrepl needs ${MIN_MAJOR_VERSION} or newer`, {
        hint: INSTALL_HINT,
      });
    }
    return { bindir: dir, majorVersion: major, version, path: (program) => join(dir, program) };
  }
  const where = explicitBindir ?? process.env.PGREPL_BINDIR;
  throw new BinariesNotFoundError(
    where
      ? `PostgreSQL server programs (${REQUIRED.join(', ')}) not found in ${where}`
      : 'PostgreSQL server programs (initdb, postgres, pg_basebackup) not found on PATH, via pg_config, or in /usr/lib/postgresql/*/bin',
    { hint: INSTALL_HINT },
  );
}
