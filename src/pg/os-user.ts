import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { userInfo } from 'node:os';
import { promisify } from 'node:util';
import { OsUserError } from './errors.js';

const run = promisify(execFile);

/** The account PostgreSQL runs as. PostgreSQL refuses to run as root, so root hands it to this user. */
export interface OsUser {
  readonly name: string;
  readonly uid: number;
  readonly gid: number;
  readonly home: string;
  /** True when pgrepl must switch to this user for every PostgreSQL program it runs. */
  readonly switchTo: boolean;
}

export const DEFAULT_OS_USER = 'postgres';

function isRoot(): boolean {
  return typeof process.geteuid === 'function' && process.geteuid() === 0;
}

/** The passwd line for `name`: /etc/passwd first (no process to spawn), then getent (NSS, LDAP, ...). */
async function passwdLine(name: string): Promise<string> {
  let passwd = '';
  try {
    passwd = readFileSync('/etc/passwd', 'utf8');
  } catch {
    /* no local file: ask NSS */
  }
  const local = passwd.split('\n').find((l) => l.startsWith(`${name}:`));
  return local ?? (await run('getent', ['passwd', name])).stdout.trim();
}

async function lookup(name: string): Promise<OsUser> {
  let line: string;
  try {
    line = await passwdLine(name);
  } catch {
    throw new OsUserError(`the OS user '${name}' does not exist`, {
      hint: `PostgreSQL refuses to run as root; create the user (e.g. \`useradd --system --create-home ${name}\`) or pass --os-user NAME`,
    });
  }
  const [, , uid, gid, , home] = line.split(':');
  if (Number(uid) === 0) {
    throw new OsUserError(`the OS user '${name}' is root; PostgreSQL refuses to run as root`, { hint: 'use an unprivileged account, e.g. --os-user postgres' });
  }
  return { name, uid: Number(uid), gid: Number(gid), home: home || '/', switchTo: true };
}

/**
 * Who runs PostgreSQL: as root, `requested` (default `postgres`); otherwise the current user, and
 * asking for another one is an error because only root can switch users.
 */
export async function resolveOsUser(requested?: string): Promise<OsUser> {
  if (isRoot()) return lookup(requested ?? DEFAULT_OS_USER);
  const me = userInfo();
  if (requested && requested !== me.username) {
    throw new OsUserError(`--os-user ${requested} needs root: pgrepl runs PostgreSQL as you (${me.username}) otherwise`, {
      hint: 'drop --os-user, or run pgrepl as root',
    });
  }
  return { name: me.username, uid: me.uid, gid: me.gid, home: me.homedir, switchTo: false };
}

/** Whether `user` can reach `dir` (every directory on the way is searchable), checked as that user. */
export async function canReach(user: OsUser, dir: string): Promise<boolean> {
  if (!user.switchTo) return true;
  try {
    await run('test', ['-x', dir], { uid: user.uid, gid: user.gid, cwd: '/' });
    return true;
  } catch {
    return false;
  }
}
