import { PgreplError } from '../errors.js';
import { passwordFor, renderPassfile } from '../pg/passfile.js';
import { generatePassword } from '../pg/scram.js';
import type { ClusterLayout } from './layout.js';

export const SUPERUSER = 'postgres';

export interface Credentials {
  readonly user: string;
  readonly password: string;
}

export interface Secrets {
  readonly superuser: Credentials;
  readonly replication: Credentials;
}

export class SecretsError extends PgreplError {}

/** Generates both passwords and writes them as 0600 passfiles in a 0700 directory. */
export async function createSecrets(layout: ClusterLayout, replicationUser: string): Promise<Secrets> {
  const secrets: Secrets = {
    superuser: { user: SUPERUSER, password: generatePassword() },
    replication: { user: replicationUser, password: generatePassword() },
  };
  await writeSecrets(layout, secrets);
  return secrets;
}

export async function writeSecrets(layout: ClusterLayout, secrets: Secrets): Promise<void> {
  await layout.ensureDir(layout.secretsDir, layout.passThroughMode, 'admin');
  await layout.writeFile(layout.superuserPassfile, renderPassfile([secrets.superuser]), 0o600, 'admin');
  // Replicas read this one through primary_conninfo's passfile=; it holds only the replication role.
  await layout.writeFile(layout.replicationPassfile, renderPassfile([{ ...secrets.replication, database: 'replication' }]), 0o600, 'server');
}

async function read(layout: ClusterLayout, file: string, user: string): Promise<Credentials> {
  let text: string;
  try {
    text = await layout.readFile(file);
  } catch (error) {
    throw new SecretsError(`cannot read ${file}: ${(error as Error).message}`, { hint: 'run pgrepl as the user (or root) that created the cluster' });
  }
  const password = passwordFor(text, user);
  if (password === undefined) throw new SecretsError(`${file} has no password for role '${user}'`);
  return { user, password };
}

export async function loadSecrets(layout: ClusterLayout, replicationUser: string): Promise<Secrets> {
  return {
    superuser: await read(layout, layout.superuserPassfile, SUPERUSER),
    replication: await read(layout, layout.replicationPassfile, replicationUser),
  };
}
