import { randomBytes } from 'node:crypto';
import { closeSync, constants, fstatSync, linkSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { basename } from 'node:path';
import type { ClusterLayout } from '../cluster/layout.js';
import { PgreplError } from '../errors.js';
import { OpenDir, unsafePath } from '../util/safe-fs.js';

/**
 * The agents' API key: 32 random bytes, one per cluster, in DIR/secrets/agent-api.key (hex, one
 * line, 0600, admin's). Agents sign their POSTs to each other with it (peer-auth.ts). It lives
 * only in that file: not in the spec, argv, the environment, logs or any output. Agents on
 * several machines each need a copy of the same file, at the same place under their cluster
 * directory; an agent reads it when it starts.
 */
export const AGENT_KEY_BYTES = 32;

export class AgentKeyError extends PgreplError {}

const FORMAT = /^([0-9a-f]{64})\n?$/;

function errno(error: unknown): string | undefined {
  return (error as NodeJS.ErrnoException).code;
}

/** Reads and checks the key in the open directory; null when there is no such file. */
function readIn(dir: OpenDir, shownAs: string): Buffer | null {
  let fd: number;
  try {
    fd = openSync(dir.at(basename(shownAs)), constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch (error) {
    if (errno(error) === 'ENOENT') return null;
    if (errno(error) === 'ELOOP') throw new AgentKeyError(`${shownAs} is a symlink`, { hint: 'replace it with the key file itself (0600)' });
    throw new AgentKeyError(`cannot read ${shownAs}: ${(error as Error).message}`, { hint: 'run pgrepl as the user (or root) that created the cluster' });
  }
  try {
    const stats = fstatSync(fd);
    if (!stats.isFile()) throw unsafePath(shownAs, stats, 'regular file');
    if ((stats.mode & 0o077) !== 0) {
      throw new AgentKeyError(`${shownAs} is readable by others (mode ${(stats.mode & 0o777).toString(8)})`, { hint: `chmod 600 ${shownAs}` });
    }
    const match = FORMAT.exec(readFileSync(fd, 'utf8'));
    if (!match) throw new AgentKeyError(`${shownAs} does not hold a ${AGENT_KEY_BYTES}-byte key in hex`, { hint: 'copy it again from a machine whose agents run, or remove it on every machine and run `pgrepl up --ha` to make a new one' });
    return Buffer.from(match[1]!, 'hex');
  } finally {
    closeSync(fd);
  }
}

/**
 * Makes the key unless it exists: written whole to a temp file, then linked into place, which
 * fails when another process made it first (two agents starting at once then share the first one).
 */
function createIn(dir: OpenDir, shownAs: string): boolean {
  const temp = dir.at(`.pgrepl-${randomBytes(8).toString('hex')}.tmp`);
  const fd = openSync(temp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o600);
  try {
    writeFileSync(fd, `${randomBytes(AGENT_KEY_BYTES).toString('hex')}\n`);
    closeSync(fd);
    linkSync(temp, dir.at(basename(shownAs)));
    return true;
  } catch (error) {
    if (errno(error) === 'EEXIST') return false;
    throw new AgentKeyError(`cannot create ${shownAs}: ${(error as Error).message}`);
  } finally {
    rmSync(temp, { force: true });
  }
}

export interface AgentKey {
  readonly key: Buffer;
  /** True when this call made it (the caller says so: other machines need a copy). */
  readonly created: boolean;
}

/** The cluster's agent API key, made first when there is none. */
export async function ensureAgentKey(layout: ClusterLayout): Promise<AgentKey> {
  const file = layout.agentApiKeyFile;
  await layout.ensureDir(layout.secretsDir, layout.passThroughMode, 'admin');
  return OpenDir.with(layout.root, layout.secretsDir, (dir) => {
    const existing = readIn(dir, file);
    if (existing) return { key: existing, created: false };
    const created = createIn(dir, file);
    const key = readIn(dir, file);
    if (!key) throw new AgentKeyError(`${file} vanished as it was made`);
    return { key, created };
  });
}

const loaded = new Map<string, Promise<AgentKey>>();

/**
 * The key as this process first loaded (or made) it. An agent loads it when it starts; its
 * failsafe requests, sent while the DCS is away and time is short, then need no disk.
 */
export function agentKeyOf(layout: ClusterLayout): Promise<AgentKey> {
  let key = loaded.get(layout.root);
  if (!key) {
    key = ensureAgentKey(layout);
    key.catch(() => loaded.delete(layout.root));
    loaded.set(layout.root, key);
  }
  return key;
}
