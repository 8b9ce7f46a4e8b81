import { renderHba } from '../pg/hba.js';
import { REPLICATION_USER } from './layout.js';
import { SCRIPTS } from './scripts.generated.js';

/**
 * Stands for the container's subnet, which the node script finds at each start and puts in its
 * place: TEST-NET-1 (RFC 5737), a real CIDR so the one pg_hba renderer takes it, never a Docker subnet.
 */
export const SUBNET_PLACEHOLDER = '192.0.2.0/24';

/**
 * pg_hba.conf of every node, written by the node script on every start for the network the node is
 * on then (Docker picks the subnet, so two projects never ask for the same one). TCP: replication
 * for the replication role from the subnet (which includes Docker's gateway, through which
 * published-port clients arrive) and sessions for other roles from it and the container's loopback,
 * scram only. The socket: the `postgres` role for the container's postgres and root OS users (so
 * `docker compose exec pgN psql -U postgres` works as the image's users expect), scram for other
 * roles, and never the replication role, which replicates and nothing more.
 */
export function composeHba(replicationUser = REPLICATION_USER): string {
  const host = renderHba({ replicationUser, nodeAddresses: [SUBNET_PLACEHOLDER], clientAddresses: [SUBNET_PLACEHOLDER, '127.0.0.1'] });
  return `${host}local all ${replicationUser} reject\nlocal all postgres peer map=pgrepl\nlocal all all scram-sha-256\n`;
}

/** The node script (entrypoint, init hook, healthcheck, rewind) with its pg_hba.conf filled in. */
export function renderNodeScript(): string {
  return SCRIPTS['pgrepl-node.sh']!.replace('@HBA@', composeHba().trimEnd());
}

export function renderInitHook(): string {
  return SCRIPTS['pgrepl-init.sh']!;
}
