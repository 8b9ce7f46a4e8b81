import { generatePassword, scramVerifier } from '../pg/scram.js';
import { SECRETS_DIR } from './layout.js';

/**
 * Every secret of a Compose project. Each is a file under `secrets/` (directory 0700) that Compose
 * mounts at /run/secrets/NAME; containers get only the `*_FILE` variable naming it, so no value is
 * in `docker inspect`, the YAML or an environment file.
 */
export interface ComposeSecrets {
  readonly postgres_password: string;
  readonly replication_password: string;
  /**
   * The SCRAM verifier of replication_password. The primary's init hook creates the role with it,
   * so the replication password itself never reaches the primary (nor its logs).
   */
  readonly replication_password_scram: string;
  readonly pgadmin_password?: string;
}

export type SecretName = keyof ComposeSecrets;

/** The variable that names the mounted file, for each secret a PostgreSQL node reads. */
export const NODE_SECRETS: ReadonlyArray<readonly [SecretName, string]> = [
  ['postgres_password', 'POSTGRES_PASSWORD_FILE'],
  ['replication_password', 'PGREPL_REPLICATION_PASSWORD_FILE'],
  ['replication_password_scram', 'PGREPL_REPLICATION_SCRAM_FILE'],
];

export function generateSecrets(withPgadmin: boolean): ComposeSecrets {
  const replication = generatePassword();
  return {
    postgres_password: generatePassword(),
    replication_password: replication,
    replication_password_scram: scramVerifier(replication),
    ...(withPgadmin ? { pgadmin_password: generatePassword() } : {}),
  };
}

export function secretFile(name: SecretName): string {
  return `${SECRETS_DIR}/${name}`;
}

export function secretTarget(name: SecretName): string {
  return `/run/secrets/${name}`;
}

/**
 * 0600 for what PostgreSQL containers read: their entrypoint reads it as root, then drops to
 * postgres. pgAdmin's image reads its password file as its own user (uid 5050), which cannot read
 * another uid's 0600 file, so that one is 0644, inside the 0700 directory (no other host user can
 * reach it; inside the container only pgAdmin runs).
 */
export function secretMode(name: SecretName): number {
  return name === 'pgadmin_password' ? 0o644 : 0o600;
}
